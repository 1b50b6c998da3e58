/** Entry point of the twin viewer (served by the gateway at `/`, contract §7): boots the controller. */
import './styles.css';
import { TwinController } from './twin.controller';
import { showFatal } from './ui/fatal.view';

TwinController.start().catch((e: unknown) => {
  const message = (e as Error)?.message ?? String(e);
  showFatal('The viewer stopped', message);
  if (window.__twin) window.__twin.error = message;
  console.error(e);
});
