// chat_glue.h: C functions over llama.cpp's chat layer (chat_glue.cpp).
#ifndef HARK_CHAT_GLUE_H
#define HARK_CHAT_GLUE_H

#include <stdbool.h>

#include "llama.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hark_chat hark_chat;

void hark_chat_quiet(void);
// hark_chat_init takes the model's template (override "" ) or an override (a Jinja template
// or a name llama.cpp knows); NULL with a malloc'd reason in *err on failure.
hark_chat * hark_chat_init(const struct llama_model * model, const char * override, char ** err);
void hark_chat_free(hark_chat * c);
char * hark_chat_source(hark_chat * c);
// hark_chat_apply renders messages (a JSON array in OpenAI's chat format) with tools (a JSON
// array of OpenAI function tools, or "") and returns a malloc'd JSON object: prompt, grammar,
// grammar_lazy, triggers, preserved_tokens, additional_stops, format, generation_prompt, parser.
char * hark_chat_apply(hark_chat * c, const char * messages, const char * tools, bool add_generation_prompt,
		bool enable_thinking, bool require_tool, char ** err);
// hark_chat_parse parses a reply with what hark_chat_apply returned (format, generation_prompt,
// parser) into a malloc'd JSON object: content, reasoning, tool_calls [{id, name, arguments}].
char * hark_chat_parse(int format, const char * generation_prompt, const char * parser, const char * text,
		bool partial, char ** err);

// hark_chat_grammar makes the grammar sampler for what hark_chat_apply returned (lazy, with its
// triggers, or fed the generation prompt); NULL with a malloc'd reason in *err.
struct llama_sampler * hark_chat_grammar(const struct llama_vocab * vocab, const char * applied, char ** err);

#ifdef __cplusplus
}
#endif

#endif
