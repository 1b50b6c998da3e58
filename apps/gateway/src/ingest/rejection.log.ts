import { Rejection } from '@park/telemetry';

/** A rejection as listed at `GET /api/rejections`. */
export interface RejectionEntry extends Rejection {
  at: string;
  /** MQTT client id and username of the sender, when known. */
  clientId?: string;
  username?: string;
}

/** The latest rejections, newest first, in a fixed-size ring. */
export class RejectionLog {
  private readonly ring: Array<RejectionEntry | undefined>;
  private next = 0;

  constructor(readonly capacity = 500) {
    this.ring = new Array(capacity);
  }

  add(entry: RejectionEntry): void {
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  latest(limit = this.capacity): RejectionEntry[] {
    const out: RejectionEntry[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const e = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (!e) break;
      out.push(e);
    }
    return out;
  }
}
