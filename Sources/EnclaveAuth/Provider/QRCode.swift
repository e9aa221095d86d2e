import CQRencode

/// QR codes through Debian's libqrencode, drawn as inline SVG (no image files, no JavaScript).
public enum QRCode {
    /// An `<svg>` element showing `text` as a QR code (error correction M), or nil if libqrencode fails
    /// (text too long). Modules are drawn as one path; a 4-module quiet zone surrounds the code.
    public static func svg(_ text: String, moduleSize: Int = 5) -> String? {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        guard let data = code.pointee.data else { return nil }
        let quiet = 4
        let size = (width + 2 * quiet) * moduleSize
        var path = ""
        for y in 0..<width {
            for x in 0..<width where data[y * width + x] & 1 == 1 {
                path += "M\((x + quiet) * moduleSize) \((y + quiet) * moduleSize)h\(moduleSize)v\(moduleSize)h-\(moduleSize)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(size)" height="\(size)" viewBox="0 0 \(size) \(size)" \
            role="img" aria-label="QR code"><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="\(path)"/></svg>
            """
    }
}
