// s3rver (npm, pinned in package.json) on a free loopback port, for the
// object-store tests and bench_io:
//
//   node --openssl-legacy-provider tests/peers/s3rver.mjs DIR [BUCKET...]
//        [--key ID:SECRET]...
//
// (s3rver encrypts its ListObjectsV2 continuation tokens with DES, which
// Node's OpenSSL 3 has only in the legacy provider: without the flag every
// truncated listing answers 500 InternalError.)
//
// serves S3 from DIR on 127.0.0.1, creates the buckets named, prints one
// line `{"port": N}` when it is ready, and stops when its standard input
// closes (so it never outlives the test that started it, even a killed
// one). Virtual-hosted requests work through BUCKET.s3.localhost:N (the
// service endpoint is "localhost"; libcurl resolves *.localhost to
// loopback by itself). s3rver checks no SigV4 signature but refuses access
// key ids it does not know (it knows S3RVER): --key adds one. Exit 1 with the reason on stderr when s3rver is
// not installed (run scripts/peers.sh).
import { requirePeer } from './render.mjs';

const args = process.argv.slice(2);
const keys = [];
for (let i = args.indexOf('--key'); i >= 0; i = args.indexOf('--key')) {
    keys.push(args[i + 1]);
    args.splice(i, 2);
}
const [dir, ...buckets] = args;
if (!dir) {
    process.stderr.write('usage: s3rver.mjs DIR [BUCKET...]\n');
    process.exit(2);
}
let S3rver;
try {
    S3rver = requirePeer('s3rver');
} catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
}
const { DUMMY_ACCOUNT } = requirePeer('s3rver/lib/models/account');
for (const k of keys) {
    const colon = k.indexOf(':');
    DUMMY_ACCOUNT.createKeyPair(k.slice(0, colon), k.slice(colon + 1));
}
const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    serviceEndpoint: 'localhost',
    configureBuckets: buckets.map(name => ({ name })),
});
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
    await server.close();
    process.exit(0);
});
