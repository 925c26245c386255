# The action script: the first program a container runs, as
#   /bin/sh -c "$(cat action.sh)" jupytainer-action ACTION [ARGS...]
# with the environment made by environment.compose_environment. It composes the container's
# environment from the image's /.singularity.d/env scripts the way Apptainer's runtime does,
# then runs the action (exec, run, shell, test, start). Plain POSIX sh: it must behave the
# same under busybox sh, dash and bash, and use only shell builtins, since an image may have
# nothing else.
#
# Transport variables, read then unset before anything else runs:
#   JUPYTAINER_ENV_NAMES    the names of the exported variables the launcher passed: the
#                           snapshot that clear and restore work on (a shell cannot list its
#                           environment portably when values hold newlines)
#   JUPYTAINER_ENV_INJECT   shell code exporting the APPTAINERENV_/--env overrides, sourced
#                           once right after 99-base.sh
#   JUPYTAINER_LOG_LEVEL    the launcher's verbosity: 0 (jupytainer -q) silences INFO lines
#   JUPYTAINER_ACTION_ROOT  a directory standing for / when looking up the image's files;
#                           empty in a container, set by tests that run this without one

__jt_action=${1:-}
[ $# -gt 0 ] && shift
__jt_root=${JUPYTAINER_ACTION_ROOT:-}
__jt_names=${JUPYTAINER_ENV_NAMES:-}
__jt_inject=${JUPYTAINER_ENV_INJECT:-}
__jt_log_level=${JUPYTAINER_LOG_LEVEL:-1}
unset JUPYTAINER_ACTION_ROOT JUPYTAINER_ENV_NAMES JUPYTAINER_ENV_INJECT JUPYTAINER_LOG_LEVEL
__jt_default_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
__jt_injected=
__jt_runtimevars_done=

# Some shells give PS1 a default of their own; only a passed PS1 counts.
case " $__jt_names " in *" PS1 "*) ;; *) unset PS1 ;; esac

# Apptainer adds the action's name to the environment it snapshots, so the container sees it.
APPTAINER_COMMAND=$__jt_action
export APPTAINER_COMMAND
__jt_names="$__jt_names APPTAINER_COMMAND"

__jt_log() {
    [ "$1" = INFO ] && [ "$__jt_log_level" -lt 1 ] && return 0
    printf '%-8s %s\n' "$1:" "$2" >&2
}

__jt_is_set() {
    eval "[ -n \"\${$1+x}\" ]"
}

# Keep every passed value aside, under a name of our own, before the image's scripts run.
__jt_snapshot() {
    for __jt_name in $__jt_names; do
        if __jt_is_set "$__jt_name"; then
            eval "__jt_saved_$__jt_name=\${$__jt_name}"
            eval "__jt_had_$__jt_name=1"
        fi
    done
}

# The image's scripts start from an empty environment, except the variables Apptainer keeps.
# The shell's own read-only variables (UID, EUID, PPID in bash) cannot be unset.
__jt_clear_env() {
    for __jt_name in $__jt_names; do
        case $__jt_name in
            PWD|HOME|OPTIND|UID|GID|EUID|PPID|SINGULARITY_APPNAME|SINGULARITY_SHELL) ;;
            APPTAINER_NAME|APPTAINER_CONTAINER|APPTAINER_INSTANCE) ;;
            __jt_*) ;;  # a host variable named like ours must not unset ours
            *) unset "$__jt_name" ;;
        esac
    done
}

# Apptainer makes these read-only while the image's scripts run. A real `readonly` would
# make dash abort the whole action on an assignment, so a script's change is undone instead.
__jt_protect() {
    for __jt_name in APPTAINER_NAME APPTAINER_CONTAINER APPTAINER_INSTANCE \
            SINGULARITY_APPNAME; do
        if eval "[ -n \"\${__jt_had_$__jt_name:-}\" ]"; then
            eval "$__jt_name=\${__jt_saved_$__jt_name}"
            export "$__jt_name"
        fi
    done
}

# Host values fill only the gaps the image left; a variable the image emptied goes away.
__jt_restore_env() {
    for __jt_name in $__jt_names; do
        eval "[ -n \"\${__jt_had_$__jt_name:-}\" ]" || continue
        if ! __jt_is_set "$__jt_name"; then
            eval "$__jt_name=\${__jt_saved_$__jt_name}"
            export "$__jt_name"
        elif eval "[ -z \"\${$__jt_name}\" ]"; then
            unset "$__jt_name"
        fi
    done
}

# PATH plus every directory of the default PATH it lacks, in order (Apptainer's fixpath).
__jt_fixpath() {
    __jt_path=${PATH:-}
    __jt_rest=$__jt_default_path
    while [ -n "$__jt_rest" ]; do
        __jt_dir=${__jt_rest%%:*}
        case $__jt_rest in *:*) __jt_rest=${__jt_rest#*:} ;; *) __jt_rest= ;; esac
        case ":$__jt_path:" in
            *":$__jt_dir:"*) ;;
            *) __jt_path=${__jt_path:+$__jt_path:}$__jt_dir ;;
        esac
    done
    PATH=$__jt_path
    export PATH
}

# The overrides, once: a default PATH when none is set, then one export per override.
__jt_inject_env() {
    [ -n "$__jt_injected" ] && return 0
    __jt_injected=1
    if ! __jt_is_set PATH; then
        PATH=$__jt_default_path
        export PATH
    fi
    eval "$__jt_inject"
    __jt_libs_fixup
}

# LD_LIBRARY_PATH holding only the libs dir would put its libraries before the image's own:
# when that dir is in use, the image's library dirs (as ldconfig lists them) go first.
__jt_libs_fixup() {
    [ "${LD_LIBRARY_PATH:-}" = /.singularity.d/libs ] || return 0
    if __jt_dir_empty "$__jt_root/.singularity.d/libs" && [ -z "${PREPEND_LD_LIBRARY_PATH:-}" ] \
            && [ -z "${APPEND_LD_LIBRARY_PATH:-}" ]; then
        return 0
    fi
    [ -x "$__jt_root/sbin/ldconfig" ] || return 0
    __jt_dirs=
    __jt_listing=$("$__jt_root/sbin/ldconfig" -Nv 2>/dev/null)
    __jt_old_ifs=$IFS
    IFS='
'
    for __jt_line in $__jt_listing; do
        case $__jt_line in
            /*:*) __jt_dirs=${__jt_dirs:+$__jt_dirs:}${__jt_line%%:*} ;;
        esac
    done
    IFS=$__jt_old_ifs
    [ -n "$__jt_dirs" ] && LD_LIBRARY_PATH=$__jt_dirs:$LD_LIBRARY_PATH
    export LD_LIBRARY_PATH
}

__jt_dir_empty() {
    for __jt_entry in "$1"/* "$1"/.[!.]*; do
        [ -e "$__jt_entry" ] && return 1
    done
    return 0
}

# The runtime's own 99-runtimevars.sh: the PATH overrides apply last of all.
__jt_runtimevars() {
    [ -n "$__jt_runtimevars_done" ] && return 0
    __jt_runtimevars_done=1
    if [ -n "${SING_USER_DEFINED_PREPEND_PATH:-}" ]; then
        PATH=$SING_USER_DEFINED_PREPEND_PATH:${PATH:-}
    fi
    if [ -n "${SING_USER_DEFINED_APPEND_PATH:-}" ]; then
        PATH=${PATH:-}:$SING_USER_DEFINED_APPEND_PATH
    fi
    if [ -n "${SING_USER_DEFINED_PATH:-}" ]; then
        PATH=$SING_USER_DEFINED_PATH
    fi
    unset SING_USER_DEFINED_PREPEND_PATH SING_USER_DEFINED_APPEND_PATH SING_USER_DEFINED_PATH
    export PATH
}

__jt_source_env_scripts() {
    for __jt_script in "$__jt_root"/.singularity.d/env/*.sh; do
        [ -f "$__jt_script" ] || continue
        case ${__jt_script#"$__jt_root"} in
            /.singularity.d/env/90-environment.sh)
                if ! __jt_is_set PATH; then
                    PATH=$__jt_default_path
                    export PATH
                fi
                . "$__jt_script" ;;
            /.singularity.d/env/10-docker2singularity.sh|/.singularity.d/env/10-docker.sh)
                . "$__jt_script"
                __jt_fixpath ;;
            /.singularity.d/env/99-base.sh)
                . "$__jt_script"
                __jt_inject_env ;;
            /.singularity.d/env/99-runtimevars.sh)
                __jt_runtimevars ;;
            *)
                . "$__jt_script" ;;
        esac
        __jt_protect
    done
}

# Images older than Singularity 2.3 have a single /environment file instead.
__jt_source_legacy_environment() {
    if [ -f "$__jt_root/environment" ]; then
        . "$__jt_root/environment"
        __jt_fixpath
        __jt_protect
    fi
}

# Limitation: Apptainer stops the evaluation of the env scripts after a minute
# (--runscript-timeout); a plain shell has no portable timer, so a script that hangs here
# hangs the container.
__jt_compose() {
    __jt_snapshot
    __jt_clear_env
    if [ -d "$__jt_root/.singularity.d/env" ]; then
        __jt_source_env_scripts
    else
        __jt_source_legacy_environment
    fi
    # Apptainer injects only after 99-base.sh; an image without it would silently lose every
    # --env value, so the overrides are applied here instead.
    __jt_inject_env
    __jt_runtimevars
    if ! __jt_dir_empty "$__jt_root/.singularity.d/libs32"; then
        LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/.singularity.d/libs32
        export LD_LIBRARY_PATH
    fi
    if [ -n "${LD_LIBRARY_PATH:-}" ]; then
        [ -n "${PREPEND_LD_LIBRARY_PATH:-}" ] \
            && LD_LIBRARY_PATH=$PREPEND_LD_LIBRARY_PATH:$LD_LIBRARY_PATH
        [ -n "${APPEND_LD_LIBRARY_PATH:-}" ] \
            && LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$APPEND_LD_LIBRARY_PATH
        export LD_LIBRARY_PATH
    fi
    __jt_restore_env
    if [ -z "${PS1:-}" ]; then
        PS1="Apptainer> "
        export PS1
    fi
    # bash given as the command would otherwise show the host's prompt.
    if [ -z "${PROMPT_COMMAND:-}" ]; then
        PROMPT_COMMAND="PS1=\"$PS1\"; unset PROMPT_COMMAND"
    else
        __jt_trim='PROMPT_COMMAND="${PROMPT_COMMAND%%; PROMPT_COMMAND=*}"'
        PROMPT_COMMAND="$PROMPT_COMMAND; $__jt_trim; PS1=\"$PS1\""
    fi
    export PROMPT_COMMAND
    APPTAINER_ENVIRONMENT=${APPTAINER_ENVIRONMENT:-/.singularity.d/env/91-environment.sh}
    SINGULARITY_ENVIRONMENT=$APPTAINER_ENVIRONMENT
    export APPTAINER_ENVIRONMENT SINGULARITY_ENVIRONMENT
}

__jt_shell() {
    if [ -n "${SINGULARITY_SHELL:-}" ] && [ -x "$SINGULARITY_SHELL" ]; then
        exec "$SINGULARITY_SHELL" "$@"
    elif [ -x "$__jt_root/bin/bash" ]; then
        SHELL=/bin/bash
        export SHELL
        exec "$__jt_root/bin/bash" --norc "$@"
    elif [ -x "$__jt_root/bin/sh" ]; then
        SHELL=/bin/sh
        export SHELL
        exec "$__jt_root/bin/sh" "$@"
    fi
    __jt_log ERROR "/bin/sh does not exist in container"
    exit 1
}

# Runs the chosen app's script KIND, or the image's when no app is chosen; returns only
# when the image has none. A chosen app without it is an error: MESSAGE, then the app.
__jt_exec_script() {
    __jt_kind=$1
    __jt_missing=$2
    shift 2
    if [ -n "${SINGULARITY_APPNAME:-}" ]; then
        __jt_app_script="$__jt_root/scif/apps/$SINGULARITY_APPNAME/scif/$__jt_kind"
        [ -x "$__jt_app_script" ] && exec "$__jt_app_script" "$@"
        __jt_log ERROR "$__jt_missing: $SINGULARITY_APPNAME"
        exit 1
    fi
    [ -x "$__jt_root/.singularity.d/$__jt_kind" ] \
        && exec "$__jt_root/.singularity.d/$__jt_kind" "$@"
    return 0
}

__jt_run() {
    __jt_exec_script runscript "no runscript for contained app" "$@"
    if [ -x "$__jt_root/apptainer" ]; then
        exec "$__jt_root/apptainer" "$@"
    elif [ -x "$__jt_root/bin/sh" ]; then
        __jt_log INFO "No runscript found in container, executing /bin/sh"
        exec "$__jt_root/bin/sh" "$@"
    fi
    __jt_log ERROR "No runscript and no /bin/sh executable found in container, aborting"
    exit 1
}

__jt_test() {
    __jt_exec_script test "No tests for contained app" "$@"
    __jt_log INFO "No test script found in container, exiting"
    exit 0
}

__jt_start() {
    __jt_app_script="$__jt_root/scif/apps/${SINGULARITY_APPNAME:-}/scif/startscript"
    if [ -n "${SINGULARITY_APPNAME:-}" ] && [ -x "$__jt_app_script" ]; then
        exec "$__jt_app_script" "$@"
    elif [ -x "$__jt_root/.singularity.d/startscript" ]; then
        exec "$__jt_root/.singularity.d/startscript" "$@"
    fi
    __jt_log INFO "No instance start script found in container"
    exit 0
}

__jt_compose
case $__jt_action in
    exec) exec "$@" ;;
    shell) __jt_shell "$@" ;;
    run) __jt_run "$@" ;;
    test) __jt_test "$@" ;;
    start) __jt_start "$@" ;;
    *) __jt_log ERROR "Unknown action $__jt_action"; exit 1 ;;
esac
