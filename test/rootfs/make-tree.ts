// A root filesystem made in the test, with every kind of metadata a layer must carry: odd and
// special modes, owners, hardlinks, symlinks (whose target has xattrs they must not report),
// a fifo, a char device, a binary file capability, binary user xattrs, a name that is not UTF-8,
// nanosecond mtimes. Needs root (chown, mknod, setcap, security.* xattrs).
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { has, runOk } from '../helpers/tools.js';

/** Why the tree cannot be made here, or undefined. */
export async function treeSkipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (chown, mknod, setcap)';
  for (const tool of ['setcap', 'setfattr', 'getfattr', 'mknod', 'touch'])
    if (!(await has(tool))) return `${tool} is not installed`;
  return undefined;
}

/** Raw bytes of the name that is not UTF-8 ("caf\xe9", latin1 é). */
export const NON_UTF8 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);

const T0 = 1_700_000_000;

async function touch(p: string, sec: number, nsec: number): Promise<void> {
  await runOk('touch', ['-h', '-d', `@${sec}.${String(nsec).padStart(9, '0')}`, p]);
}

export interface MadeTree {
  root: string;
  /** A unix socket that the walk must leave out; close it when done. */
  socket: net.Server;
}

export async function makeTree(root: string): Promise<MadeTree> {
  const p = (...parts: string[]) => path.join(root, ...parts);
  await fs.mkdir(root, { recursive: true });
  for (const d of ['usr/bin', 'etc', 'tmp', 'private', 'data/sub', 'dev', 'weird'])
    await fs.mkdir(p(d), { recursive: true });

  await fs.writeFile(p('usr/bin/ping'), randomBytes(5000));
  await fs.chmod(p('usr/bin/ping'), 0o4755);
  await runOk('setcap', ['cap_net_raw+ep', p('usr/bin/ping')]);
  await runOk('setfattr', ['-n', 'user.component', '-v', 'iputils', p('usr/bin/ping')]);
  await fs.symlink('ping', p('usr/bin/ping4'));
  await fs.symlink('/etc/passwd', p('abs-link'));
  await fs.symlink('../nowhere/at/all', p('weird/dangling'));

  await fs.writeFile(p('etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await fs.writeFile(p('etc/shadow'), 'root:*:19000::::::\n');
  await fs.chmod(p('etc/shadow'), 0o640);
  await fs.chown(p('etc/shadow'), 0, 42);
  await fs.chmod(p('etc'), 0o2755);

  await fs.chmod(p('tmp'), 0o1777);
  await fs.writeFile(p('private/secret'), 'hush');
  await fs.chown(p('private/secret'), 1234, 5678);
  await fs.chmod(p('private/secret'), 0o600);
  // A binary value with NUL and high bytes, and one on a directory.
  await runOk('setfattr', ['-n', 'user.binary', '-v', '0x00ff10e9c300', p('private/secret')]);
  await runOk('setfattr', ['-n', 'user.dir.note', '-v', 'a directory xattr', p('private')]);
  await fs.chown(p('private'), 1234, 5678);
  await fs.chmod(p('private'), 0o700);

  // A hardlink set of three, bigger than the read-ahead head (256 KiB), so it is read in pieces.
  await fs.writeFile(p('data/a'), randomBytes(300 * 1024));
  await fs.link(p('data/a'), p('data/b'));
  await fs.link(p('data/a'), p('data/sub/c'));
  await fs.writeFile(p('data/big'), randomBytes(2 * 1024 * 1024 + 12345));
  await fs.writeFile(p('data/empty'), '');
  await fs.writeFile(p('data/same-as-passwd'), 'root:x:0:0:root:/root:/bin/sh\n'); // same content, other inode

  await runOk('mknod', ['-m', '0666', p('dev/null'), 'c', '1', '3']);
  await runOk('mkfifo', ['-m', '0620', p('dev/initctl')]);

  // A name that is not UTF-8, as a file and as a directory holding one.
  const bin = Buffer.from(root);
  await fs.writeFile(Buffer.concat([bin, Buffer.from('/weird/'), NON_UTF8]), 'latin1 name\n');
  await fs.mkdir(Buffer.concat([bin, Buffer.from('/weird/dir-'), NON_UTF8]));

  const socketPath = p('weird/sock');
  const socket = net.createServer();
  await new Promise<void>((resolve, reject) => socket.once('error', reject).listen(socketPath, resolve));

  // mtimes with nanoseconds, on everything with a UTF-8 name; directories last, deepest first.
  let n = 0;
  for (const f of [
    'usr/bin/ping',
    'usr/bin/ping4',
    'abs-link',
    'weird/dangling',
    'etc/passwd',
    'etc/shadow',
    'private/secret',
    'data/a',
    'data/big',
    'data/empty',
    'data/same-as-passwd',
    'dev/null',
    'dev/initctl',
  ]) {
    await touch(p(f), T0 + n, 123_456_789 + n++);
  }
  for (const d of ['usr/bin', 'usr', 'etc', 'tmp', 'private', 'data/sub', 'data', 'dev', 'weird'])
    await touch(p(d), T0 - 1000 - n, 999_999_999 - n++);
  await touch(root, T0 - 5000, 1);
  return { root, socket };
}
