// FCM device tokens of the mobile app's users (seed 1's device_tokens).
import type { PrismaClient } from "../db/database.js";
import type { DeviceTokens } from "../outbox/push-delivery.js";

export interface RegisterDeviceInput {
  userId: string;
  token: string;
  platform: string | null;
  deviceId: string | null;
}

export interface DeviceStatus {
  user_id: string;
  registered: boolean;
  device_count: number;
  has_tokens: boolean;
}

export class DeviceService implements DeviceTokens {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Registers a token for a user. The same token (even from another user,
   * after a re-login on the phone) or the same device with a new token
   * updates the existing entry instead of adding one.
   */
  async register({ userId, token, platform, deviceId }: RegisterDeviceInput): Promise<number> {
    if (deviceId) {
      await this.prisma.device.deleteMany({ where: { userId, deviceId, NOT: { token } } });
    }
    await this.prisma.device.upsert({
      where: { token },
      create: { userId, token, platform, deviceId },
      // A re-registration that omits platform or device_id keeps what was known.
      update: { userId, platform: platform ?? undefined, deviceId: deviceId ?? undefined },
    });
    return this.prisma.device.count({ where: { userId } });
  }

  async status(userId: string): Promise<DeviceStatus> {
    const count = await this.prisma.device.count({ where: { userId } });
    return { user_id: userId, registered: count > 0, device_count: count, has_tokens: count > 0 };
  }

  /** One entry per registered device, oldest first: its platform as the app named it, or null. */
  async platformsOf(userId: string): Promise<(string | null)[]> {
    const rows = await this.prisma.device.findMany({ where: { userId }, select: { platform: true }, orderBy: { id: "asc" } });
    return rows.map((row) => row.platform);
  }

  async tokensOf(userId: string): Promise<string[]> {
    const rows = await this.prisma.device.findMany({ where: { userId }, select: { token: true }, orderBy: { id: "asc" } });
    return rows.map((row) => row.token);
  }

  async remove(tokens: readonly string[]): Promise<number> {
    if (tokens.length === 0) return 0;
    const result = await this.prisma.device.deleteMany({ where: { token: { in: [...tokens] } } });
    return result.count;
  }
}
