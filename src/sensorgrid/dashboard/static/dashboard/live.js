// The browser side of the /ws/live/ protocol (docs/dashboard.md): one connection per
// page, subscriptions kept across reconnects, frames dispatched by their "type".

const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];

export class Live {
  constructor({ url = defaultUrl(), stateElement = document.getElementById("live-state") } = {}) {
    this.url = url;
    this.stateElement = stateElement;
    this.subscriptions = new Map(); // JSON of the subscription → the object itself
    this.handlers = new Map(); // frame type → [handler]
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    return this;
  }

  subscribe(subscription) {
    const key = JSON.stringify(subscription);
    if (this.subscriptions.has(key)) return;
    this.subscriptions.set(key, subscription);
    this.send({ subscribe: subscription });
  }

  unsubscribe(subscription) {
    const key = JSON.stringify(subscription);
    if (this.subscriptions.delete(key)) this.send({ unsubscribe: subscription });
  }

  connect() {
    this.stopped = false;
    this.setState("connecting", "Live updates: connecting…");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.setState("connected", "Live updates: connected");
      for (const subscription of this.subscriptions.values()) this.send({ subscribe: subscription });
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.dispatch(frame);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      // 4001: the server closed a client too slow to keep up; reconnecting gets a snapshot.
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      const jitter = Math.random() * delay * 0.3;
      this.attempt += 1;
      const why = event.code === 4001 ? "too slow" : "disconnected";
      this.setState("reconnecting", `Live updates: ${why}, reconnecting in ${Math.round((delay + jitter) / 1000)} s…`);
      setTimeout(() => this.connect(), delay + jitter);
    });
    return this;
  }

  close() {
    this.stopped = true;
    if (this.socket) this.socket.close();
    this.setState("off", "Live updates: off");
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  dispatch(frame) {
    for (const handler of [...(this.handlers.get(frame.type) || []), ...(this.handlers.get("*") || [])]) {
      try {
        handler(frame);
      } catch (error) {
        console.error("live handler failed", error); // one broken handler must not stop the others
      }
    }
  }

  setState(state, text) {
    if (!this.stateElement) return;
    this.stateElement.dataset.state = state;
    this.stateElement.textContent = text;
  }
}

export function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/live/`;
}

export function readJson(id, fallback = null) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : fallback;
}
