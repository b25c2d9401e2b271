import { z } from "zod";
import { startSessionFromInitData } from "../../diary/auth.js";
import { createTRPCRouter, protectedProcedure, publicProcedure } from "../trpc.js";

export const sessionRouter = createTRPCRouter({
  /**
   * Starts or restores the caller's session from Telegram initData, taken
   * from the input or else from `Authorization: tma <initData>`.
   */
  start: publicProcedure
    .input(z.object({ initData: z.string().max(16 * 1024).optional() }).optional())
    .mutation(({ ctx, input }) =>
      startSessionFromInitData(ctx.auth, {
        initData: input?.initData ?? ctx.credentials.initData,
        sessionToken: ctx.credentials.sessionToken,
      }),
    ),

  me: protectedProcedure.query(({ ctx }) => ({ user: ctx.user })),
});
