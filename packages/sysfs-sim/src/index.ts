// @passthru/sysfs-sim: see ../../../README.md and DESIGN (layout). Filled in by its issue.
export {};
