"""The /etc/passwd and /etc/group the container sees: the image's own, with the caller's
entries put in, so that `id`, `whoami` and `ls -l` know who runs the payload."""


def passwd_file(plan, image_text: str) -> str:
    """The image's passwd with the caller's line replaced or appended."""
    entry = f"{plan.user_name}:x:{plan.uid}:{plan.gid}:{plan.user_name}:{plan.home}:/bin/sh"
    lines = [line for line in image_text.splitlines()
             if not _names(line, plan.user_name, plan.uid)]
    return "\n".join(lines + [entry]) + "\n"


def group_file(plan, image_text: str) -> str:
    """The image's group file plus a line for each of the caller's groups it lacks."""
    lines = image_text.splitlines()
    known = {line.split(":")[2] for line in lines if line.count(":") >= 3}
    for name, gid in plan.groups:
        if str(gid) not in known:
            lines.append(f"{name}:x:{gid}:{plan.user_name}")
            known.add(str(gid))
    return "\n".join(lines) + "\n"


def _names(line: str, name: str, uid: int) -> bool:
    """Whether a passwd line describes this user (by name or by number)."""
    fields = line.split(":")
    return len(fields) > 2 and (fields[0] == name or fields[2] == str(uid))
