import CairnSigV4
import Foundation
import Testing

@Suite("Header values and dates parsed by hand")
struct HandParsingTests {
    @Test("Canonical header values: trimmed, inner runs of spaces and tabs become one space, UTF-8 kept")
    func canonicalHeaderValues() {
        #expect(SigV4.canonicalHeaderValue("  a   b\t\tc  ") == "a b c")
        #expect(SigV4.canonicalHeaderValue("\t") == "")
        #expect(SigV4.canonicalHeaderValue("déjà  vu") == "déjà vu")
        #expect(SigV4.canonicalHeaderValue("plain") == "plain")
    }

    @Test("x-amz-date: the basic ISO 8601 form, anything malformed refused")
    func amzDates() {
        #expect(SigV4.parseAmzDate("20130524T000000Z") == Date(timeIntervalSince1970: 1_369_353_600))
        #expect(SigV4.parseAmzDate("20241231T235959Z") == Date(timeIntervalSince1970: 1_735_689_599))
        for bad in ["2013052T000000Z", "20131324T000000Z", "20130524T250000Z", "20130524X000000Z", "2013O524T000000Z"] {
            #expect(SigV4.parseAmzDate(bad) == nil, "\(bad)")
        }
    }

    @Test("x-amz-date is written as a DateFormatter writes it, in whole UTC seconds, and parses back")
    func amzDateFormatting() {
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 1_369_353_600)) == "20130524T000000Z")
        #expect(SigV4.amzDate(Date(timeIntervalSince1970: 1_735_689_599.75)) == "20241231T235959Z")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        for seconds in [0, 951_782_400, 1_369_353_600, 1_700_000_000.75, 4_102_444_799, 253_402_300_799] as [Double] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(SigV4.amzDate(date) == formatter.string(from: date), "\(seconds)")
            #expect(SigV4.parseAmzDate(SigV4.amzDate(date)) == Date(timeIntervalSince1970: seconds.rounded(.down)))
        }
    }
}
