/** Entry point of the twin viewer (served by the gateway at `/`, contract §7). */
import './styles.css';
import { startTwin } from './twin.app';

startTwin().catch((e: unknown) => {
  const box = document.getElementById('fatal');
  if (box) {
    box.hidden = false;
    box.textContent = `The viewer stopped: ${(e as Error)?.message ?? String(e)}`;
  }
  if (window.__twin) window.__twin.error = (e as Error)?.message ?? String(e);
  console.error(e);
});
