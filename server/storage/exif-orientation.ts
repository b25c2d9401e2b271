// Exif is a small TIFF file. Phones record which way up a photo is in its
// Orientation tag (0x0112), and viewers (Telegram, the mobile app, browsers)
// rotate by it: dropping Exif whole would turn portrait photos sideways.
// So the only part of an Exif block that survives is that one tag, rebuilt
// from scratch; GPS, serial numbers, dates and maker notes are gone with the rest.

const ORIENTATION_TAG = 0x0112;
const TYPE_SHORT = 3;

/** The Orientation value (2..8) of a TIFF/Exif structure; null when absent, normal (1) or unreadable. */
export function readOrientation(tiff: Buffer): number | null {
  if (tiff.length < 8) return null;
  const order = tiff.toString("latin1", 0, 2);
  if (order !== "II" && order !== "MM") return null;
  const le = order === "II";
  const u16 = (at: number) => (le ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (le ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return null;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return null;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return null;
    if (u16(entry) !== ORIENTATION_TAG) continue;
    if (u16(entry + 2) !== TYPE_SHORT) return null;
    const value = u16(entry + 8);
    return value >= 2 && value <= 8 ? value : null;
  }
  return null;
}

/** A minimal big-endian TIFF structure holding only the Orientation tag. */
export function orientationOnlyTiff(orientation: number): Buffer {
  const out = Buffer.alloc(26);
  out.write("MM", 0, "latin1");
  out.writeUInt16BE(42, 2);
  out.writeUInt32BE(8, 4); // IFD0 right after the header
  out.writeUInt16BE(1, 8); // one entry
  out.writeUInt16BE(ORIENTATION_TAG, 10);
  out.writeUInt16BE(TYPE_SHORT, 12);
  out.writeUInt32BE(1, 14); // count
  out.writeUInt16BE(orientation, 18); // value, left-justified in the 4-byte field
  out.writeUInt32BE(0, 22); // no next IFD
  return out;
}
