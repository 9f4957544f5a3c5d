import Foundation

extension SigV4 {
    /// `date` in SigV4's `YYYYMMDD'T'HHMMSS'Z'` form (UTC, whole seconds), as `x-amz-date` and `X-Amz-Date` carry it.
    ///
    /// Its first eight characters are the day of the credential scope.
    public static func amzDate(_ date: Date) -> String {
        // By hand, as the parser below: a DateFormatter is costly to make and Calendar components costly to get,
        // and a client signs every request.
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var out = [UInt8]()
        out.reserveCapacity(16)
        func append(_ value: Int32, digits: Int) {
            var divisor: Int32 = 1
            for _ in 1..<digits { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        append(parts.tm_year + 1900, digits: 4)
        append(parts.tm_mon + 1, digits: 2)
        append(parts.tm_mday, digits: 2)
        out.append(UInt8(ascii: "T"))
        append(parts.tm_hour, digits: 2)
        append(parts.tm_min, digits: 2)
        append(parts.tm_sec, digits: 2)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses SigV4's `YYYYMMDD'T'HHMMSS'Z'` (by hand: every request has one); nil for anything else.
    public static func parseAmzDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
