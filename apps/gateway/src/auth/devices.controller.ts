import { Body, ConflictException, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { badParam } from '../api/api-errors';
import { GatewayConfig } from '../config/gateway-config';
import { CLOCK, CONFIG } from '../core/core.tokens';
import { Clock } from '../core/clock';
import { Operator } from './api-tokens';
import { CurrentOperator, RequireRole } from './auth.decorators';
import { DEVICE_AUTHENTICATOR } from './device-auth.token';
import { DeviceAuthenticator, hashPassword, newPassword, readCredentialsFile, writeCredentialsFile } from './device-credentials';
import { requireUnscopedAdmin } from './tokens.controller';
import { isValidFilterForDevice } from './topic-filter';

/**
 * Device credentials over the API (contract §8: admin), in the same file and
 * format as `npm run credentials`. A change applies at once: the embedded
 * broker's authenticator is given the new file, so a new device can connect
 * right away and a removed one is refused at its next publish or login.
 */
@ApiTags('auth')
@RequireRole('admin')
@Controller('api/devices')
export class DevicesController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(DEVICE_AUTHENTICATOR) private readonly authenticator: DeviceAuthenticator | null,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every device credential: username, publish filters, created, note; never a password or hash.' })
  list(@CurrentOperator() op: Operator) {
    this.check(op);
    return readCredentialsFile(this.config.deviceCredentialsFile, { mustExist: false }).devices.map((d) => ({ username: d.username, publish: d.publish, createdAt: d.createdAt, note: d.note ?? null }));
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Add a device: {username, publish: [topic filter], note?}. The answer holds its password, shown this once.' })
  @ApiBody({ schema: { type: 'object', required: ['username', 'publish'], properties: { username: { type: 'string' }, publish: { type: 'array', items: { type: 'string' } }, note: { type: 'string' } } } })
  async add(@CurrentOperator() op: Operator, @Body() body: unknown) {
    this.check(op);
    const b = (body ?? {}) as { username?: unknown; publish?: unknown; note?: unknown };
    if (typeof b.username !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(b.username)) throw badParam('username', '1-128 letters, digits, ".", "_" or "-"');
    if (!Array.isArray(b.publish) || b.publish.length === 0 || b.publish.length > 100) throw badParam('publish', 'a list of 1-100 topic filters, e.g. ["park/demo/b01/#"]');
    for (const f of b.publish) {
      const why = typeof f === 'string' ? isValidFilterForDevice(f) : 'not a string';
      if (why) throw badParam('publish', `${JSON.stringify(f)}: ${why}`);
    }
    if (b.note !== undefined && (typeof b.note !== 'string' || b.note.length > 500)) throw badParam('note', 'a string of at most 500 characters');
    const file = this.config.deviceCredentialsFile;
    const password = newPassword();
    const hash = await hashPassword(password, true);
    // Read after the (slow) hash, so that nothing written meanwhile is lost.
    const content = readCredentialsFile(file, { mustExist: false });
    if (content.devices.some((d) => d.username === b.username)) throw new ConflictException({ error: 'conflict', message: `device "${b.username}" exists; remove it first` });
    content.devices.push({ username: b.username, hash, publish: b.publish as string[], createdAt: new Date(this.clock.now()).toISOString(), ...(b.note ? { note: b.note as string } : {}) });
    writeCredentialsFile(file, content);
    this.authenticator?.replace(content);
    return { username: b.username, password, publish: b.publish };
  }

  @Delete(':username')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a device credential; a connected device is disconnected at its next publish.' })
  remove(@CurrentOperator() op: Operator, @Param('username') username: string): void {
    this.check(op);
    const file = this.config.deviceCredentialsFile;
    const content = readCredentialsFile(file, { mustExist: false });
    const devices = content.devices.filter((d) => d.username !== username);
    if (devices.length === content.devices.length) throw new NotFoundException({ error: 'not_found', message: `no device "${username}"` });
    writeCredentialsFile(file, { ...content, devices });
    this.authenticator?.replace({ ...content, devices });
  }

  private check(op: Operator): void {
    requireUnscopedAdmin(op);
    if (this.config.mqttUrl) throw new ConflictException({ error: 'conflict', message: 'devices authenticate at the external broker (MQTT_URL is set); manage them there' });
  }
}
