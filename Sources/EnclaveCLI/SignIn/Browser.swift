import Foundation

/// Opens a URL in the user's web browser, when this session has one.
///
/// A browser is available when `$BROWSER` names one (the first of a colon-separated list; `%s` in it is
/// replaced by the URL, else the URL is appended), or on a desktop session (`DISPLAY` or
/// `WAYLAND_DISPLAY` set) with `xdg-open` on `PATH`, or on macOS (`open`). Over SSH none of these hold,
/// and `enclave login` signs in with a device code instead.
public enum Browser {
    /// The command line that opens `url`, or nil when no browser is available.
    public static func command(for url: String, variables: [String: String]) -> [String]? {
        if let browser = variables["BROWSER"]?.split(separator: ":").first.map(String.init),
            !browser.trimmingCharacters(in: .whitespaces).isEmpty
        {
            let words = browser.split(separator: " ").map(String.init)
            return words.contains { $0.contains("%s") }
                ? words.map { $0.replacingOccurrences(of: "%s", with: url) } : words + [url]
        }
        #if os(macOS)
            return ["/usr/bin/open", url]
        #else
            let display = [variables["DISPLAY"], variables["WAYLAND_DISPLAY"]].contains { !($0 ?? "").isEmpty }
            guard display, let xdgOpen = executable("xdg-open", path: variables["PATH"]) else { return nil }
            return [xdgOpen, url]
        #endif
    }

    /// A function that opens URLs in the browser, or nil when none is available; it returns whether the
    /// browser command could be started (its own success is not waited for).
    public static func opener(variables: [String: String]) -> (@Sendable (String) -> Bool)? {
        guard command(for: "https://probe", variables: variables) != nil else { return nil }
        return { url in
            guard let words = command(for: url, variables: variables), let program = words.first,
                let path = program.contains("/") ? program : executable(program, path: variables["PATH"])
            else { return false }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = Array(words.dropFirst())
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return (try? process.run()) != nil
        }
    }

    /// The full path of `name` on `path` (colon-separated), if it is an executable there.
    static func executable(_ name: String, path: String?) -> String? {
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
