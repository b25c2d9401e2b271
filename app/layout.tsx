import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { bootScript } from "./_lib/boot/script";
import "./globals.css";

export const metadata: Metadata = {
  title: "Speaking Diary",
  description: "Private diary notes in Telegram",
  // A private app behind Telegram auth: nothing here for search engines.
  robots: { index: false, follow: false },
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  // Lets env(safe-area-inset-*) report real insets on notched phones.
  viewportFit: "cover",
  colorScheme: "light dark",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // The boot script sets theme variables and lang on <html> before React
    // hydrates, starts the first notes request and paints its answer early
    // (see _lib/boot/main.ts).
    <html lang="ru" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: bootScript }} />
      </head>
      <body>{children}</body>
    </html>
  );
}
