import { z } from "zod";
import { createNote, deleteNote, listNotes, noteIdSchema, noteTextSchema, updateNote } from "../../diary/notes.js";
import { createTRPCRouter, protectedProcedure } from "../trpc.js";

export const notesRouter = createTRPCRouter({
  /** The caller's notes, newest first. */
  list: protectedProcedure.query(({ ctx }) => listNotes({ db: ctx.db, userId: ctx.user.id })),

  create: protectedProcedure
    .input(z.object({ text: noteTextSchema }))
    .mutation(({ ctx, input }) => createNote({ db: ctx.db, userId: ctx.user.id, text: input.text, now: ctx.now() })),

  update: protectedProcedure
    .input(z.object({ id: noteIdSchema, text: noteTextSchema }))
    .mutation(({ ctx, input }) => updateNote({ db: ctx.db, userId: ctx.user.id, id: input.id, text: input.text, now: ctx.now() })),

  delete: protectedProcedure
    .input(z.object({ id: noteIdSchema }))
    .mutation(({ ctx, input }) => deleteNote({ db: ctx.db, userId: ctx.user.id, id: input.id })),
});
