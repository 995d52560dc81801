// libedit's readline-compatible API, with accessors for the globals that Swift 6 cannot touch
// directly (see ../shared/research/swift-spike.md).
#include <stdio.h>
#include <stdlib.h>
#include <editline/readline.h>

typedef char **(*ce_completion_fn)(const char *, int, int);
typedef char *(*ce_generator_fn)(const char *, int);

static inline void ce_set_completion(ce_completion_fn f) { rl_attempted_completion_function = f; }
static inline void ce_completion_over(void) { rl_attempted_completion_over = 1; }
static inline void ce_set_name(const char *name) { rl_readline_name = name; }
static inline char **ce_matches(const char *text, ce_generator_fn g) { return rl_completion_matches(text, g); }
static inline const char *ce_line_buffer(void) { return rl_line_buffer; }
static inline int ce_bind(const char *command) { return rl_parse_and_bind(command); }
static inline int ce_history_length(void) { return history_length; }
