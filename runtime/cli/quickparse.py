"""A small parser for the common command lines of the hot verbs, so that starting a
container does not pay for importing argparse (and the re, enum and gettext it pulls in).

It reads the same flag tables the verb gives argparse and handles only the plain forms:
exact flag names, `--flag VALUE`, `--flag=VALUE`, then the positionals. For anything else
(help, a usage error, an abbreviation, grouped short flags, a value that starts with '-',
a remainder that starts with '--')
it returns None and the caller lets argparse parse the words, so argparse stays the one
definition of the command line and the one place that prints help and usage errors.
"""

SWITCH = "switch"    # a flag without a value: stores True
VALUE = "value"      # a flag with a value: the last one wins
APPEND = "append"    # a repeatable flag with a value: every value, in order


def parse(words: list[str], flags: dict[str, tuple[str, str]], positionals: list[str],
          remainder: str | None = None) -> dict[str, object] | None:
    """The destinations that words set, or None when argparse must decide.

    flags maps each spelling to (SWITCH | VALUE | APPEND, destination). Options may come
    before and between the positionals; once all positionals are there, the rest of the
    words go to the remainder destination as they are.
    """
    found: dict[str, object] = {}
    taken: list[str] = []
    index = 0
    while index < len(words):
        if len(taken) == len(positionals) and remainder is not None:
            break
        word = words[index]
        index += 1
        if not word.startswith("-"):
            if len(taken) == len(positionals):
                return None
            taken.append(word)
            continue
        value, index = _option(word, words, index, flags, found)
        if value is None:
            return None

    # argparse drops a '--' that starts the remainder (in some versions): let it decide.
    if len(taken) < len(positionals) or words[index:index + 1] == ["--"]:
        return None
    found.update(zip(positionals, taken))
    if remainder is not None:
        found[remainder] = words[index:]
    return found


def _option(word: str, words: list[str], index: int, flags: dict[str, tuple[str, str]],
            found: dict[str, object]) -> tuple[object, int]:
    """Store the option that word starts; (None, index) when it is not a plain one."""
    name, equals, attached = word.partition("=") if word.startswith("--") else (word, "", "")
    if name not in flags:
        return None, index
    kind, destination = flags[name]
    if kind == SWITCH:
        if equals:
            return None, index
        found[destination] = True
        return True, index

    if equals:
        value = attached
    elif index < len(words) and not words[index].startswith("-"):
        value, index = words[index], index + 1
    else:
        return None, index
    if kind == APPEND:
        found.setdefault(destination, []).append(value)
    else:
        found[destination] = value
    return value, index
