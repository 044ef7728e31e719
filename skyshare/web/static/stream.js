// The node's change stream (/api/stream): decoded messages out, reconnecting by itself
// with a capped exponential back-off; a new connection starts with a full snapshot.

export class StreamClient {
  // decode: message data (ArrayBuffer or string) -> message, throwing on bad input
  constructor(url, { decode, onMessage, onState, minDelayMs, maxDelayMs }) {
    this.url = url;
    this.decode = decode;
    this.onMessage = onMessage;
    this.onState = onState;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.delayMs = minDelayMs;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
    this.badMessages = 0; // skipped because they could not be decoded
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
  }

  connect() {
    this.onState('connecting');
    const socket = new WebSocket(this.url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.delayMs = this.minDelayMs;
      this.onState('connected');
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = this.decode(event.data);
      } catch (error) {
        // counted and shown in the status bar; a delta lost this way is repaired by the
        // next snapshot, which a reconnect asks for
        this.badMessages += 1;
        this.onState('bad-data');
        socket.close();
        return;
      }
      this.onMessage(message);
    });
    socket.addEventListener('close', () => this.scheduleReconnect());
  }

  scheduleReconnect() {
    this.socket = null;
    if (this.stopped) {
      this.onState('closed');
      return;
    }
    this.onState('reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.delayMs);
    this.delayMs = Math.min(this.maxDelayMs, this.delayMs * 2);
  }
}

// ws:// or wss:// URL of `path` on the server that served the page
export function streamUrl(location, path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}
