import { build } from 'esbuild';
import { deflateRawSync } from 'node:zlib';

/** The file a bundle is written to inside its zip: FC handlers are named `index.<export>`. */
export const BUNDLE_ENTRY = 'index.js';

/**
 * One function's code package: its source file bundled with everything it imports into a single
 * CommonJS file (the nodejs20 runtime loads `.js` as CommonJS), zipped as {@link BUNDLE_ENTRY}.
 */
export async function bundleFunction(file: string, options: { root?: string } = {}): Promise<Buffer> {
  const result = await build({
    absWorkingDir: options.root ?? process.cwd(),
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: BUNDLE_ENTRY,
    write: false,
    legalComments: 'none',
    // The OSS SDK's HTTP client requires this optionally, inside a try; it is not installed.
    external: ['proxy-agent'],
    logLevel: 'warning',
  });
  const output = result.outputFiles.find((f) => f.path.endsWith(`/${BUNDLE_ENTRY}`));
  if (!output) throw new Error(`esbuild produced no ${BUNDLE_ENTRY} for ${file}`);
  return zipFiles([{ name: BUNDLE_ENTRY, data: Buffer.from(output.contents) }]);
}

/**
 * A minimal zip archive (deflate, no extras, UTF-8 names, a fixed 1980-01-01 timestamp so the same
 * bundle always yields the same bytes). Enough for a code package; not a general zip writer: no
 * ZIP64, so each file and the archive stay under 4 GiB.
 */
export function zipFiles(files: ReadonlyArray<{ name: string; data: Buffer }>): Buffer {
  const DOS_DATE_1980_01_01 = (0 << 9) | (1 << 5) | 1;
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const compressed = deflateRawSync(file.data);
    const crc = crc32(file.data);
    // Local header and central directory entry share these fields, in this order.
    const describe = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at); // version needed: 2.0 (deflate)
      header.writeUInt16LE(0x0800, at + 2); // names are UTF-8
      header.writeUInt16LE(8, at + 4); // deflate
      header.writeUInt16LE(0, at + 6);
      header.writeUInt16LE(DOS_DATE_1980_01_01, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(compressed.length, at + 14);
      header.writeUInt32LE(file.data.length, at + 18);
      header.writeUInt16LE(name.length, at + 22);
      return header;
    };
    const local = describe(Buffer.alloc(30), 4);
    local.writeUInt32LE(0x04034b50, 0);
    const central = describe(Buffer.alloc(46), 6);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0 — so the external attributes are a mode
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3), as zip records it; zlib.crc32 only exists from Node 20.15. */
export function crc32(data: Buffer): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const table = crcTable;
  let crc = 0xffffffff;
  for (const byte of data) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
