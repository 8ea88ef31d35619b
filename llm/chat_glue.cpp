// chat_glue.cpp: llama.cpp's chat layer (common/chat) behind C functions for chat.go's
// templates and tool calls: rendering a conversation with the model's own Jinja template (with
// llama.cpp's fallbacks), the grammar and lazy triggers for tool calls, and parsing a reply into
// content, reasoning and tool calls. Conversations and results cross as JSON (OpenAI's chat
// format for messages and tools), so that no C++ type and no exception reaches Go.
#include "chat_glue.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "common/chat.h"
#include "common/common.h"
#include "common/json.h"
#include "common/log.h"

struct hark_chat {
	common_chat_templates_ptr tmpls;
};

static char * dup_str(const std::string & s) {
	char * out = static_cast<char *>(std::malloc(s.size() + 1));
	if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
	return out;
}

static void set_err(char ** err, const char * what) {
	if (err != nullptr) *err = dup_str(what != nullptr ? what : "unknown error");
}

void hark_chat_quiet(void) {
	// common's own logger (separate from llama_log_set) prints to stderr; Hark keeps it silent.
	common_log_set_verbosity_thold(-1);
}

hark_chat * hark_chat_init(const struct llama_model * model, const char * override, char ** err) {
	*err = nullptr;
	try {
		auto * c = new hark_chat();
		c->tmpls = common_chat_templates_init(model, override != nullptr ? override : "");
		if (!c->tmpls) {
			delete c;
			set_err(err, "no chat template");
			return nullptr;
		}
		return c;
	} catch (const std::exception & e) {
		set_err(err, e.what());
	} catch (...) {
		set_err(err, nullptr);
	}
	return nullptr;
}

void hark_chat_free(hark_chat * c) { delete c; }

char * hark_chat_source(hark_chat * c) {
	try {
		return dup_str(common_chat_templates_source(c->tmpls.get()));
	} catch (...) {
		return dup_str("");
	}
}

char * hark_chat_apply(hark_chat * c, const char * messages, const char * tools, bool add_generation_prompt,
		bool enable_thinking, bool require_tool, char ** err) {
	*err = nullptr;
	try {
		common_chat_templates_inputs in;
		in.messages = common_chat_msgs_parse_oaicompat(common_json::parse(messages));
		if (tools != nullptr && tools[0] != 0) {
			in.tools = common_chat_tools_parse_oaicompat(common_json::parse(tools));
		}
		in.add_generation_prompt = add_generation_prompt;
		in.use_jinja = true;
		in.enable_thinking = enable_thinking;
		in.reasoning_format = COMMON_REASONING_FORMAT_DEEPSEEK;
		in.parallel_tool_calls = !in.tools.empty();
		if (require_tool && !in.tools.empty()) in.tool_choice = COMMON_CHAT_TOOL_CHOICE_REQUIRED;
		common_chat_params p = common_chat_templates_apply(c->tmpls.get(), in);

		common_json out = common_json::object();
		out["prompt"] = p.prompt;
		out["grammar"] = p.grammar;
		out["grammar_lazy"] = p.grammar_lazy;
		out["format"] = (int) p.format;
		out["format_name"] = std::string(common_chat_format_name(p.format));
		out["generation_prompt"] = p.generation_prompt;
		out["parser"] = p.parser;
		out["supports_thinking"] = p.supports_thinking;
		out["thinking_start"] = p.thinking_start_tag;
		common_json ends = common_json::array();
		for (const auto & s : p.thinking_end_tags) ends.push_back(s);
		out["thinking_end"] = ends;
		common_json triggers = common_json::array();
		for (const auto & t : p.grammar_triggers) {
			common_json o = common_json::object();
			o["type"] = (int) t.type;
			o["value"] = t.value;
			o["token"] = (int) t.token;
			triggers.push_back(o);
		}
		out["triggers"] = triggers;
		common_json preserved = common_json::array();
		for (const auto & s : p.preserved_tokens) preserved.push_back(s);
		out["preserved_tokens"] = preserved;
		common_json stops = common_json::array();
		for (const auto & s : p.additional_stops) stops.push_back(s);
		out["additional_stops"] = stops;
		return dup_str(out.dump());
	} catch (const std::exception & e) {
		set_err(err, e.what());
	} catch (...) {
		set_err(err, nullptr);
	}
	return nullptr;
}

char * hark_chat_parse(int format, const char * generation_prompt, const char * parser, const char * text,
		bool partial, char ** err) {
	*err = nullptr;
	try {
		common_chat_parser_params pp;
		pp.format = (common_chat_format) format;
		pp.generation_prompt = generation_prompt;
		pp.reasoning_format = COMMON_REASONING_FORMAT_DEEPSEEK;
		pp.parse_tool_calls = true;
		if (parser != nullptr && parser[0] != 0) pp.parser.load(parser);
		common_chat_msg msg = common_chat_parse(text, partial, pp);
		common_json out = common_json::object();
		out["content"] = msg.content;
		out["reasoning"] = msg.reasoning_content;
		common_json calls = common_json::array();
		for (const auto & tc : msg.tool_calls) {
			common_json o = common_json::object();
			o["id"] = tc.id;
			o["name"] = tc.name;
			o["arguments"] = tc.arguments;
			calls.push_back(o);
		}
		out["tool_calls"] = calls;
		return dup_str(out.dump());
	} catch (const std::exception & e) {
		set_err(err, e.what());
	} catch (...) {
		set_err(err, nullptr);
	}
	return nullptr;
}

struct llama_sampler * hark_chat_grammar(const struct llama_vocab * vocab, const char * applied, char ** err) {
	*err = nullptr;
	struct llama_sampler * grmr = nullptr;
	try {
		common_json a = common_json::parse(applied);
		std::string grammar = a.at("grammar").get<std::string>();
		bool lazy = a.at("grammar_lazy").get<bool>();
		if (grammar.empty()) {
			set_err(err, "no grammar");
			return nullptr;
		}
		// The triggers become patterns and tokens as common/sampling.cpp makes them.
		std::vector<std::string> patterns;
		std::vector<llama_token> tokens;
		const common_json & triggers = a.at("triggers");
		for (size_t i = 0; i < triggers.size(); i++) {
			const common_json & t = triggers.at(i);
			int type = t.at("type").get<int>();
			std::string value = t.at("value").get<std::string>();
			switch (type) {
				case COMMON_GRAMMAR_TRIGGER_TYPE_WORD: patterns.push_back(regex_escape(value)); break;
				case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: patterns.push_back(value); break;
				case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: {
					std::string anchored = "^$";
					if (!value.empty()) {
						anchored = (value.front() != '^' ? "^" : "") + value + (value.back() != '$' ? "$" : "");
					}
					patterns.push_back(anchored);
					break;
				}
				case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN: tokens.push_back((llama_token) t.at("token").get<int>()); break;
				default: break;
			}
		}
		std::vector<const char *> cpatterns;
		for (const auto & p : patterns) cpatterns.push_back(p.c_str());
		if (lazy) {
			grmr = llama_sampler_init_grammar_lazy_patterns(vocab, grammar.c_str(), "root", cpatterns.data(), cpatterns.size(),
				tokens.data(), tokens.size());
		} else {
			grmr = llama_sampler_init_grammar(vocab, grammar.c_str(), "root");
		}
		if (grmr == nullptr) {
			set_err(err, "llama.cpp could not parse the tool-call grammar");
			return nullptr;
		}
		// A grammar that is not lazy starts at the generation prompt, which the template already
		// put in the prompt: feed it its tokens (as common_sampler_init does).
		std::string gen = a.at("generation_prompt").get<std::string>();
		if (!lazy && !gen.empty()) {
			auto toks = common_tokenize(vocab, gen, false, true);
			for (size_t i = 0; i < toks.size(); i++) {
				std::string piece = common_token_to_piece(vocab, toks[i], true);
				if (i == 0 && !piece.empty() && std::isspace((unsigned char) piece[0]) && !std::isspace((unsigned char) gen[0])) {
					continue;
				}
				llama_sampler_accept(grmr, toks[i]);
			}
		}
		return grmr;
	} catch (const std::exception & e) {
		set_err(err, e.what());
	} catch (...) {
		set_err(err, nullptr);
	}
	if (grmr != nullptr) llama_sampler_free(grmr);
	return nullptr;
}
