import mqtt, { IClientOptions, MqttClient } from 'mqtt';

/** Connects an MQTT.js client and waits for CONNACK (rejects on refusal). */
export async function connectDevice(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
}

/** Publishes one JSON payload at QoS 1 and waits for the PUBACK. */
export async function publishJson(client: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  await client.publishAsync(topic, typeof payload === 'string' ? payload : JSON.stringify(payload), { qos });
}

/** Fetches JSON from the gateway (with these headers, e.g. a gateway's `adminHeaders`); returns status and body. */
export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: body as T };
}

/** Reads one counter or gauge from the Prometheus text of /metrics. */
export async function metric(httpUrl: string, name: string, headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`, { headers })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} not found in /metrics`);
  return Number(line.slice(name.length + 1));
}
