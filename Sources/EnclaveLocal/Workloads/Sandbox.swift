// The command line that runs a workload inside its workspace: cgroup, network namespace, uid, bubblewrap.

/// How a workload is confined: placed in the workspace's cgroups, entered into its network namespace,
/// switched to the workspace uid/gid with no capabilities and no new privileges, then under bubblewrap
/// with a read-only system, a private /tmp, its own pid namespace, the workspace's `shared` and `home`
/// writable, `DATA/tools` read-only and the rest of `DATA` hidden.
///
/// bubblewrap runs as the workspace uid (in a user namespace), not as root: as root it would keep
/// root's files writable. Its pid 1 ignores SIGTERM, so stopping ends with SIGKILL to the group.
public struct Sandbox: Sendable, Hashable {
    public var namespace: String
    public var uid: Int
    /// The gid; nil: the same number as `uid`. A user's own workload runs with its own uid and the
    /// workspace's gid, so it shares the workspace's `shared` folder but not other users' homes.
    public var gid: Int?
    /// `cgroup.procs` files the process joins before anything else starts.
    public var cgroupProcs: [String]
    public var dataDirectory: String
    public var workspaceDirectory: String
    public var workingDirectory: String

    public init(
        namespace: String, uid: Int, cgroupProcs: [String], dataDirectory: String, workspaceDirectory: String, workingDirectory: String,
        gid: Int? = nil
    ) {
        self.namespace = namespace
        self.uid = uid
        self.gid = gid
        self.cgroupProcs = cgroupProcs
        self.dataDirectory = dataDirectory
        self.workspaceDirectory = workspaceDirectory
        self.workingDirectory = workingDirectory
    }

    /// The tools the wrapper needs, by absolute path; nil with the missing one's name.
    public static func tools() -> Result<(sh: String, ip: String, setpriv: String, bwrap: String), SandboxError> {
        var found: [String] = []
        for tool in ["sh", "ip", "setpriv", "bwrap"] {
            guard let path = HostCommand.locate(tool) else {
                return .failure(SandboxError(message: "'\(tool)' is not installed; workloads need sh, ip, setpriv and bwrap (apt-get install bubblewrap)"))
            }
            found.append(path)
        }
        return .success((found[0], found[1], found[2], found[3]))
    }

    /// argv running `command` confined.
    public func argv(_ command: [String]) -> Result<[String], SandboxError> {
        let tools: (sh: String, ip: String, setpriv: String, bwrap: String)
        switch Self.tools() {
        case .success(let found): tools = found
        case .failure(let error): return .failure(error)
        }
        // sh writes its own pid to each cgroup.procs, then execs: every later process starts inside.
        let joinCgroups = #"while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@""#
        var argv = [tools.sh, "-c", joinCgroups, "enclave-workload"] + cgroupProcs + ["--"]
        argv += [tools.ip, "netns", "exec", namespace]
        argv += [
            tools.setpriv, "--reuid", "\(uid)", "--regid", "\(gid ?? uid)", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs",
        ]
        let ws = workspaceDirectory
        argv += [
            tools.bwrap, "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/root",
            "--tmpfs", dataDirectory,
            "--ro-bind", "\(dataDirectory)/tools", "\(dataDirectory)/tools",
            "--bind", "\(ws)/shared", "\(ws)/shared",
            "--bind", "\(ws)/home", "\(ws)/home",
            "--dev", "/dev", "--proc", "/proc",
            // No --die-with-parent: its parent-death signal fires when the *thread* that spawned bubblewrap exits, and
            // the Swift runtime's worker threads come and go, so workloads were SIGKILLed at random seconds after
            // starting. The supervisor stops workloads itself (process group) and adopts them after a restart.
            "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--chdir", workingDirectory, "--",
        ]
        // Without --die-with-parent, bubblewrap's init stays while any process of the sandbox lives, so a tool
        // whose main process exits would leave its children (and their ports) behind and its restart would
        // fail. The command therefore runs under a shell that, once it ends, kills everything else in the
        // sandbox's pid namespace (`kill -1` there reaches only the sandbox's processes) and exits with its status.
        let endsSandbox = #"status=0; "$@" || status=$?; kill -KILL -1 2>/dev/null; exit $status"#
        return .success(argv + [tools.sh, "-c", endsSandbox, "enclave-sandbox"] + command)
    }
}

public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
