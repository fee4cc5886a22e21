// The `phone` transform on libphonenumber (see the CMakeLists.txt note on how it is found).

#include "crmsync/mapping/transforms.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <set>
#include <string>

namespace crmsync::mapping {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// A process-wide singleton whose const methods are thread-safe; building it parses the
// metadata of every region once (a few milliseconds, on first use).
const PhoneNumberUtil& util() {
    return *PhoneNumberUtil::GetInstance();
}

PhoneNumberUtil::PhoneNumberFormat to_format(phone_style s) {
    switch (s) {
        case phone_style::e164:
            return PhoneNumberUtil::E164;
        case phone_style::international:
            return PhoneNumberUtil::INTERNATIONAL;
        case phone_style::national:
            return PhoneNumberUtil::NATIONAL;
        case phone_style::rfc3966:
            return PhoneNumberUtil::RFC3966;
    }
    return PhoneNumberUtil::E164;
}

// libphonenumber's name for "no region": numbers must then carry their country code.
constexpr const char* unknown_region = "ZZ";

}  // namespace

std::string_view describe(phone_error e) noexcept {
    switch (e) {
        case phone_error::not_a_number:
            return "is not a phone number";
        case phone_error::no_region:
            return "has no country code (+NN) and no phone region is set to read it in";
        case phone_error::bad_country_code:
            return "has no valid country code";
        case phone_error::too_short:
            return "is too short for a phone number of its country";
        case phone_error::too_long:
            return "is too long for a phone number of its country";
        case phone_error::invalid_for_region:
            return "is not a valid phone number of its country";
    }
    return "is not a phone number";
}

bool is_phone_region(std::string_view region) {
    // Only geographic regions: "001" (non-geographic entities) and "ZZ" are not listed.
    static const std::set<std::string, std::less<>> regions = [] {
        std::set<std::string> all;
        util().GetSupportedRegions(&all);
        return std::set<std::string, std::less<>>(all.begin(), all.end());
    }();
    return regions.contains(region);
}

std::variant<std::string, phone_error> format_phone(std::string_view text,
                                                    phone_style style,
                                                    const std::string& region) {
    const PhoneNumberUtil& u = util();
    PhoneNumber number;
    const auto parsed =
        u.Parse(std::string(text), region.empty() ? unknown_region : region, &number);
    switch (parsed) {
        case PhoneNumberUtil::NO_PARSING_ERROR:
            break;
        case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
            return region.empty() ? phone_error::no_region : phone_error::bad_country_code;
        case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
        case PhoneNumberUtil::TOO_SHORT_NSN:
            return phone_error::too_short;
        case PhoneNumberUtil::TOO_LONG_NSN:
            return phone_error::too_long;
        default:
            return phone_error::not_a_number;
    }
    if (!u.IsValidNumber(number)) {
        switch (u.IsPossibleNumberWithReason(number)) {
            case PhoneNumberUtil::TOO_SHORT:
                return phone_error::too_short;
            case PhoneNumberUtil::TOO_LONG:
                return phone_error::too_long;
            case PhoneNumberUtil::INVALID_COUNTRY_CODE:
                return phone_error::bad_country_code;
            default:
                return phone_error::invalid_for_region;
        }
    }
    std::string out;
    u.Format(number, to_format(style), &out);
    return out;
}

}  // namespace crmsync::mapping
