// A child process of the crash test: writes transactions of TXN_KEYS keys each, as
// fast as it can, and reports every commit the store acknowledged. The parent kills it
// with SIGKILL at an arbitrary moment, most likely inside a transaction or its fsync.
import { loadDatastoreConfig, openBackend } from '../config.js';

const keysPerTxn = Number(process.env.TXN_KEYS ?? '20');
const backend = await openBackend(loadDatastoreConfig(process.env));
const filler = 'x'.repeat(4096);
for (let i = 0; ; i++) {
  const res = await backend.txn({
    compare: [],
    success: Array.from({ length: keysPerTxn }, (_, j) => ({
      type: 'put' as const,
      key: `/crash/${String(i).padStart(6, '0')}/${j}`,
      value: JSON.stringify({ txn: i, j, filler }),
    })),
  });
  process.stdout.write(`${i} ${res.revision}\n`);
}
