// Synthetic option ROM images for tests (pci-discovery's and the CLI's).
/** One ROM image of `blocks` x 512 bytes: 0x55AA, PCIR at 0x1c, and an EFI header when code type 3. */
export function romImage(opts: { vendor: number; device: number; codeType: number; last: boolean; blocks?: number; efiMachine?: number }): Buffer {
  const image = Buffer.alloc((opts.blocks ?? 1) * 512);
  image.writeUInt16LE(0xaa55, 0);
  image.writeUInt16LE(0x1c, 0x18);
  if (opts.codeType === 3) {
    image.writeUInt16LE(opts.blocks ?? 1, 2);
    image.writeUInt32LE(0x0ef1, 4);
    image.writeUInt16LE(11, 8);
    image.writeUInt16LE(opts.efiMachine ?? 0x8664, 0x0a);
  } else image[2] = opts.blocks ?? 1;
  image.write('PCIR', 0x1c, 'latin1');
  image.writeUInt16LE(opts.vendor, 0x1c + 4);
  image.writeUInt16LE(opts.device, 0x1c + 6);
  image.writeUInt16LE(0x18, 0x1c + 0x0a);
  image[0x1c + 0x0d] = 0x00; // programming interface
  image[0x1c + 0x0e] = 0x00; // subclass
  image[0x1c + 0x0f] = 0x03; // class: display
  image.writeUInt16LE(opts.blocks ?? 1, 0x1c + 0x10);
  image[0x1c + 0x14] = opts.codeType;
  image[0x1c + 0x15] = opts.last ? 0x80 : 0;
  if (opts.codeType === 0) {
    let sum = 0;
    for (const b of image) sum = (sum + b) & 0xff;
    image[image.length - 1] = (0x100 - sum) & 0xff;
  }
  return image;
}
