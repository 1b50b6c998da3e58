/**
 * The printable monthly report (contract §8, `GET .../report`):
 * `/report.html?park=<id>&month=YYYY-MM`. One A4 page when printed (the
 * browser's print to PDF), made for a park operator to hand to management.
 */
import './report.css';
import { ApiError, ParkApi } from './api/park.api';
import { renderReport, renderReportError } from './ui/report.view';

declare global {
  interface Window {
    /** For tests: set once the page shows the report or why it cannot. */
    __report?: { ready: boolean; error: string | null };
  }
}

async function main(): Promise<void> {
  window.__report = { ready: false, error: null };
  const root = document.getElementById('report') as HTMLElement;
  const api = new ParkApi();
  const q = new URLSearchParams(location.search);
  try {
    const parkId = q.get('park') ?? (await api.parks())[0]?.id;
    if (!parkId) throw new Error('the gateway serves no park');
    const [report, model] = await Promise.all([api.report(parkId, q.get('month') ?? undefined), api.model(parkId)]);
    renderReport(root, report, model);
  } catch (e) {
    window.__report.error = (e as Error).message;
    // Operator authentication (contract §8): the page rides on the twin's session cookie.
    const signIn = e instanceof ApiError && e.status === 401;
    renderReportError(root, signIn ? 'Not signed in: open the twin, sign in with your operator token, then reload this page.' : (e as Error).message, signIn ? `./${location.search}` : undefined);
  }
  root.setAttribute('aria-busy', 'false');
  window.__report.ready = true;
}

void main();
