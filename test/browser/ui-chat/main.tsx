// The page of test/browser/ui-chat.browser.mjs and readers.browser.mjs: the README's SignIn and
// BookChat, against the service whose origin the page's ?api= names.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { BookChat } from "./book-chat";
import { type Reader, SignIn } from "./sign-in";

const api = new URLSearchParams(location.search).get("api") ?? "";

function Page() {
  const [reader, setReader] = useState<Reader>();
  return (
    <>
      <SignIn reader={reader} onChange={setReader} />
      <BookChat api={api} getToken={reader?.getToken} />
    </>
  );
}

createRoot(document.getElementById("root")!).render(<Page />);
