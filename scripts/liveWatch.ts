/**
 * A Foxglove WebSocket client that prints what a live view serves: the advertised channels (topic,
 * schema) and, when the server closes (or after --seconds), how many messages arrived per topic.
 *   node dist/scripts/liveWatch.js [PORT] [SECONDS]   (default 8765, 60)
 */
import type { Channel, IWebSocket } from '@foxglove/ws-protocol';
import wsProtocol from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';

const { FoxgloveClient } = wsProtocol;
const port = Number(process.argv[2] ?? 8765);
const seconds = Number(process.argv[3] ?? 60);
const url = `ws://127.0.0.1:${port}`;
const counts = new Map<number, number>();
const channels = new Map<number, Channel>();
const connectOnce = () =>
  new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    ws.on('error', reject);
    const client = new FoxgloveClient({ ws: ws as unknown as IWebSocket });
    const subscribed = new Map<number, number>();
    client.on('open', () => console.log(`connected to ${url}`));
    client.on('advertise', (cs) => {
      for (const c of cs) {
        channels.set(c.id, c);
        console.log(`advertised ${c.topic} (${c.schemaName}, ${c.encoding}, schema ${c.schemaEncoding}, ${c.schema.length} chars)`);
        subscribed.set(client.subscribe(c.id), c.id);
      }
    });
    client.on('message', (m) => {
      const ch = subscribed.get(m.subscriptionId);
      if (ch !== undefined) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    });
    client.on('status', (s) => console.log(`status ${s.level}: ${s.message}`));
    client.on('close', () => resolve());
    setTimeout(() => {
      client.close();
      resolve();
    }, seconds * 1000);
  });
for (let tries = 0; ; tries++) {
  try {
    await connectOnce();
    break;
  } catch (e) {
    if (tries > 100) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}
for (const [id, c] of channels) console.log(`${c.topic}: ${counts.get(id) ?? 0} messages`);
process.exit(0);
