import { MiniApp } from "./_components/mini-app";

// Static shell: everything user-specific happens in the browser, after mount.
export default function Page() {
  return <MiniApp />;
}
