"""generator/platforms/proxmox."""
