// A small W3C WebDriver client over fetch: just what the end-to-end tests need.
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, capabilities, { attempts = 40 } = {}) {
    let last;
    for (let i = 0; i < attempts; i++) {
      try {
        const value = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
        return new Session(base, value.sessionId);
      } catch (e) {
        last = e;
        await sleep(250);
      }
    }
    throw new Error(`no WebDriver session: ${last?.message}`);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async end() {
    await this.cmd('DELETE', '').catch(() => {});
  }

  /** Waits for an element matching an XPath expression or CSS selector to be displayed. */
  async find(selector, { timeout = 10_000 } = {}) {
    const using = selector.startsWith('/') || selector.startsWith('(') ? 'xpath' : 'css selector';
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        const found = await this.cmd('POST', '/elements', { using, value: selector });
        for (const ref of found) {
          const el = new Element(this, ref[ELEMENT]);
          el.selector = selector;
          if (await el.displayed()) return el;
        }
      } catch (e) {
        last = e;
      }
      await sleep(100);
    }
    throw new Error(`not found within ${timeout} ms: ${selector}${last ? ` (${last.message})` : ''}`);
  }

  async findAll(selector) {
    const using = selector.startsWith('/') ? 'xpath' : 'css selector';
    const found = await this.cmd('POST', '/elements', { using, value: selector });
    return found.map((ref) => new Element(this, ref[ELEMENT]));
  }

  /** Waits until `predicate` (run in the page) returns something truthy, and returns it. */
  async waitFor(script, args = [], { timeout = 10_000, what = script } = {}) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const value = await this.execute(script, args).catch(() => null);
      if (value) return value;
      await sleep(100);
    }
    throw new Error(`timed out waiting for: ${what}`);
  }

  execute(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  executeAsync(script, args = []) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }
  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }
  ref() {
    return { [ELEMENT]: this.id };
  }
  async click() {
    try {
      // WebKitWebDriver does not always scroll an element above the viewport back into view.
      await this.session.execute('arguments[0].scrollIntoView({ block: "center" })', [this.ref()]);
      return await this.cmd('POST', '/click', {});
    } catch (e) {
      throw new Error(`${e.message} (${this.selector ?? 'element'})`);
    }
  }
  async type(text) {
    await this.cmd('POST', '/clear', {});
    return this.cmd('POST', '/value', { text });
  }
  /** The text as a reader sees it: soft hyphens (break points in long words) left out. */
  async text() {
    return (await this.cmd('GET', '/text')).replaceAll('\u00ad', '');
  }
  displayed() {
    return this.cmd('GET', '/displayed');
  }
  attribute(name) {
    return this.cmd('GET', `/attribute/${name}`);
  }
}

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json?.value?.error) {
    throw new Error(`${method} ${path}: ${json?.value?.error ?? res.status} ${json?.value?.message ?? ''}`.trim());
  }
  return json.value;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
