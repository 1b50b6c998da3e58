/**
 * An ingest worker thread: parses, validates and turns into line protocol
 * the messages the main thread hands it, with the same MessageProcessor the
 * main thread uses when GATEWAY_WORKERS=0. It keeps no state beyond the park
 * models; what it returns is all it tells the main thread.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { indexPark } from '@park/telemetry';
import { WorkerInit } from './ingest.pool';
import { MessageProcessor, ProcessedMessage, refuse } from './message.processor';
import { encodeResults, payloadOf, WorkerBatch } from './worker.codec';

if (!isMainThread && parentPort) {
  const init = workerData as WorkerInit;
  const processor = new MessageProcessor(init.parks.map(indexPark), init.limits);
  const port = parentPort;
  port.on('message', (batch: WorkerBatch) => {
    const results = new Array<ProcessedMessage>(batch.topics.length);
    for (let i = 0; i < batch.topics.length; i++) {
      const payload = payloadOf(batch, i);
      try {
        results[i] = processor.process(batch.topics[i], payload, batch.nowMs[i]);
      } catch (e) {
        // process() never throws by design; should it, this message alone is refused.
        results[i] = refuse('bad_json', `payload could not be processed: ${(e as Error).message}`.slice(0, 200), batch.topics[i], payload);
      }
    }
    const { result, transfer } = encodeResults(batch.id, results);
    port.postMessage(result, transfer);
  });
}
