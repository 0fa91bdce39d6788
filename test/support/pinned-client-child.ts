// Run as a child process (its own environment, e.g. NODE_TLS_REJECT_UNAUTHORIZED=0): the engine's two relay clients
// try the endpoint given as JSON in argv[2], a logged-in HTTP call and a WebSocket, and the child prints one JSON
// line saying how each ended.
import { signingKeyPair } from '../../core/crypto/sodium.ts';
import { deviceIdFor } from '../../core/protocol/ids.ts';
import { RelayHttp, type RelayEndpoint } from '../../core/engine/relay-http.ts';
import { RelaySocket, type ConnectionState } from '../../core/engine/relay-socket.ts';

const endpoint = JSON.parse(process.argv[2]!) as RelayEndpoint;
const outcome = (error: unknown) => ({ name: (error as Error).name, code: (error as { code?: string }).code, message: (error as Error).message });

const http = new RelayHttp(endpoint, { timeoutMs: 5000 });
const device = signingKeyPair();
http.setDevice(deviceIdFor(device.publicKey), device.secretKey);
const httpResult = await http.me().then(() => ({ name: 'ok' }), outcome);
http.close();

// The socket is given a token directly, so its own TLS handshake (not the login's) is what meets the impostor.
const states: ConnectionState[] = [];
const socket = new RelaySocket({
  endpoint, token: async () => 'a-session-token-the-impostor-must-never-see', onDeliveries: async () => {},
  onState: (state) => states.push(state), backoff: { baseMs: 20, maxMs: 50 },
});
socket.start();
const socketResult = await socket.waitOnline(3000).then(() => ({ name: 'ok' }), outcome);
await socket.stop();
process.stdout.write(`${JSON.stringify({ http: httpResult, socket: socketResult, states })}\n`);
