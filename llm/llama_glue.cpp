// llama_glue.cpp: the C++ side of llamacpp.go: llama.cpp's common library (JSON schemas) and
// its internal architecture table, behind C functions that never let an exception out.
#include "llama_glue.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "common/json-schema-to-grammar.h"
#include "common/json.h"
#include "hark_llama_build.h"
#include "llama-arch.h"

static char * dup_string(const std::string & s) {
	char * out = static_cast<char *>(std::malloc(s.size() + 1));
	if (out != nullptr) std::memcpy(out, s.c_str(), s.size() + 1);
	return out;
}

char * hark_schema_to_grammar(const char * schema, char ** err) {
	*err = nullptr;
	try {
		return dup_string(json_schema_to_grammar(common_json::parse(schema)));
	} catch (const std::exception & e) {
		*err = dup_string(e.what());
	} catch (...) {
		*err = dup_string("unknown error");
	}
	return nullptr;
}

int hark_arch_names(const char ** out, int cap) {
	int n = 0;
	for (int a = 0; a < (int) LLM_ARCH_UNKNOWN; a++) {
		const char * name = llm_arch_name((llm_arch) a);
		// LLM_ARCH_CLIP is a placeholder for vision projectors, not a model llama.cpp loads.
		if (name == nullptr || a == (int) LLM_ARCH_CLIP || std::strcmp(name, "unknown") == 0) continue;
		if (out != nullptr && n < cap) out[n] = name;
		n++;
	}
	return n;
}

const char * hark_llama_release(void) { return HARK_LLAMA_RELEASE; }
const char * hark_llama_source(void) { return HARK_LLAMA_SOURCE; }
const char * hark_llama_options(void) { return HARK_LLAMA_OPTIONS; }
