// `s`: whichever app window the steps drive now (the patient's, or for a while a carer's own).
import { app } from './helpers.mjs';

export const s = new Proxy(
  {},
  {
    get(_, key) {
      const v = app.s[key];
      return typeof v === 'function' ? v.bind(app.s) : v;
    },
  },
);
