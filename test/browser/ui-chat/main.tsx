// The page of test/browser/ui-chat.browser.mjs: the README's BookChat, against the service whose
// origin the page's ?api= names.
import { createRoot } from "react-dom/client";
import { BookChat } from "./book-chat";

const api = new URLSearchParams(location.search).get("api") ?? "";
createRoot(document.getElementById("root")!).render(<BookChat api={api} />);
