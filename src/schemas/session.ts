import { z } from "zod";
import { uuidSchema } from "./uuid";

export const sessionPathSchema = z.object({ session_uuid: uuidSchema });
