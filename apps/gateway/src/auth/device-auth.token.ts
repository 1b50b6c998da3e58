/** Injection token of the embedded broker's DeviceAuthenticator (null when MQTT_AUTH=off or MQTT_URL is set). */
export const DEVICE_AUTHENTICATOR = Symbol('DEVICE_AUTHENTICATOR');
