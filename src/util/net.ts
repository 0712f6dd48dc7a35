/** Local network helpers shared by the servers the tool starts (embedded MariaDB, PHP built-in server). */
import net from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the system picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
