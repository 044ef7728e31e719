// The node's change stream (/api/stream): parsed messages out, reconnecting by itself
// with a capped exponential back-off; a new connection starts with a full snapshot.

export class StreamClient {
  constructor(url, { onMessage, onState, minDelayMs, maxDelayMs }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onState = onState;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.delayMs = minDelayMs;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
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
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.delayMs = this.minDelayMs;
      this.onState('connected');
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not ours to understand; the next snapshot or delta will be
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
