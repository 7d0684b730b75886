// The end-to-end tests' WebDriver calls, over selenium-webdriver (the W3C protocol, sessions,
// element references and actions are the library's). What is ours is what the steps want on
// top: finding an element once it is displayed, waiting for a condition in the page, clicking
// what may be scrolled out of view, and text as a reader sees it.
import { Builder, By, Capabilities, Key } from 'selenium-webdriver';

const locate = (selector) => (selector.startsWith('/') || selector.startsWith('(') ? By.xpath(selector) : By.css(selector));

export class Session {
  constructor(driver) {
    this.driver = driver;
  }

  /** A session on the WebDriver server at `base` (tauri-driver), retried while it starts. */
  static async start(base, capabilities, { attempts = 40 } = {}) {
    let last;
    for (let i = 0; i < attempts; i++) {
      try {
        const caps = new Capabilities(capabilities);
        // tauri-driver drives the app's web view (wry); the browser name is its own.
        caps.setBrowserName('wry');
        return new Session(await new Builder().usingServer(base).withCapabilities(caps).build());
      } catch (e) {
        last = e;
        await sleep(250);
      }
    }
    throw new Error(`no WebDriver session: ${last?.message}`);
  }

  async end() {
    await this.driver.quit().catch(() => {});
  }

  /** Waits for an element matching an XPath expression or CSS selector to be displayed. */
  async find(selector, { timeout = 10_000 } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        for (const el of await this.driver.findElements(locate(selector))) {
          if (await el.isDisplayed()) return new Element(this, el, selector);
        }
      } catch (e) {
        last = e;
      }
      await sleep(100);
    }
    throw new Error(`not found within ${timeout} ms: ${selector}${last ? ` (${last.message})` : ''}`);
  }

  async findAll(selector) {
    return (await this.driver.findElements(locate(selector))).map((el) => new Element(this, el, selector));
  }

  /** Waits until `script` (run in the page) returns something truthy, and returns it. */
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
    return this.driver.executeScript(script, ...args.map(unwrap));
  }

  executeAsync(script, args = []) {
    return this.driver.executeAsyncScript(script, ...args.map(unwrap));
  }

  async screenshot() {
    return Buffer.from(await this.driver.takeScreenshot(), 'base64');
  }

  /** The window's size in CSS pixels. */
  async resize(width, height) {
    await this.driver.manage().window().setRect({ width, height });
  }

  /** One press of Tab, as the keyboard sends it (to whatever has the focus). */
  async tab() {
    await this.driver.actions().keyDown(Key.TAB).keyUp(Key.TAB).perform();
  }
}

const unwrap = (a) => (a instanceof Element ? a.el : a);

export class Element {
  constructor(session, el, selector) {
    this.session = session;
    this.el = el;
    this.selector = selector;
  }
  async click() {
    try {
      // WebKitWebDriver does not always scroll an element above the viewport back into view.
      await this.session.execute('arguments[0].scrollIntoView({ block: "center" })', [this]);
      return await this.el.click();
    } catch (e) {
      throw new Error(`${e.message} (${this.selector ?? 'element'})`);
    }
  }
  async type(text) {
    await this.el.clear();
    return this.el.sendKeys(text);
  }
  /** Keys sent to the element as they are, without clearing it first. */
  keys(text) {
    return this.el.sendKeys(text);
  }
  /** The text as a reader sees it: soft hyphens (break points in long words) left out. */
  async text() {
    return (await this.el.getText()).replaceAll('\u00ad', '');
  }
  displayed() {
    return this.el.isDisplayed();
  }
  /** The attribute as written in the markup (not the live property). */
  attribute(name) {
    return this.el.getDomAttribute(name);
  }
  async screenshot() {
    return Buffer.from(await this.el.takeScreenshot(), 'base64');
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
