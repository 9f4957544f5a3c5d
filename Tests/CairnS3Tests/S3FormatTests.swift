import Foundation
import Testing

@testable import CairnS3

/// Tests for the formats ``S3Format`` writes by hand.
@Suite("S3 formats written by hand")
struct S3FormatTests {
    @Test("Last-Modified dates match a DateFormatter's RFC 1123 form")
    func httpDates() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for seconds in [0, 1_369_353_600, 1_700_000_000.75, 951_782_400, 4_102_444_799] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(S3Format.httpDate(date) == formatter.string(from: date))
        }
    }
}
