// uPlot, loaded when the first chart is drawn. uPlot builds an Intl.NumberFormat from
// navigator.language when it loads; on a system whose locale is "C" (or anything Intl rejects)
// that throws and would take the whole app down, so such a tag is replaced by plain English first.
import type uPlotType from 'uplot';

let loading: Promise<typeof uPlotType> | null = null;

export function loadUPlot(): Promise<typeof uPlotType> {
  if (!loading) {
    try {
      new Intl.NumberFormat(navigator.language);
    } catch {
      Object.defineProperty(navigator, 'language', { value: 'en', configurable: true });
    }
    loading = import('uplot').then((m) => m.default);
  }
  return loading;
}
