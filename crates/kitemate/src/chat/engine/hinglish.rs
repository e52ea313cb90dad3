//! Hinglish (Roman-script Hindi mixed with English) and Indian-English
//! quirks, rewritten into the plain English words the grammar reads:
//! `INFY ke kitne share hai mere paas` becomes `INFY how many share my
//! have`, `pehli baar kab kharida` becomes `first when bought`. Postpositions
//! and particles (`ka`, `ke`, `hai`, `kya`) carry nothing the grammar needs
//! and are dropped. The word lists are in `docs/chat.md`.

/// Two-word phrases, read before single words: (first, second, English).
const PHRASES: &[(&str, &str, &str)] = &[
    ("kitni", "baar", "how many times"),
    ("kitne", "baar", "how many times"),
    ("kitni", "bar", "how many times"),
    ("kitni", "dafa", "how many times"),
    ("kitne", "dafa", "how many times"),
    ("kitni", "dafaa", "how many times"),
    ("kitne", "times", "how many times"),
    ("kitni", "times", "how many times"),
    ("kitne", "percent", "what percent"),
    ("kitna", "percent", "what percent"),
    ("kitni", "percent", "what percent"),
    ("pehli", "baar", "first"),
    ("pahli", "baar", "first"),
    ("pehli", "bar", "first"),
    ("aakhri", "baar", "last"),
    ("akhri", "baar", "last"),
    ("aakhiri", "baar", "last"),
    ("last", "baar", "last"),
    ("kab", "se", "since when"),
    ("ab", "tak", "so far"),
    ("till", "date", "so far"),
    ("to", "date", "so far"),
    ("till", "now", "so far"),
    ("until", "now", "so far"),
    ("aaj", "tak", "so far"),
    ("sabse", "zyada", "most"),
    ("sabse", "jyada", "most"),
    ("sabse", "jada", "most"),
    ("sabse", "adhik", "most"),
    ("sabse", "bada", "biggest"),
    ("sabse", "badi", "biggest"),
    ("sabse", "bade", "biggest"),
    ("sabse", "kam", "least"),
    ("sabse", "chhota", "smallest"),
    ("sabse", "chota", "smallest"),
    ("sabse", "chhoti", "smallest"),
    ("sabse", "choti", "smallest"),
    ("sabse", "chhote", "smallest"),
    ("sabse", "chote", "smallest"),
    ("sabse", "accha", "best"),
    ("sabse", "kharab", "worst"),
    ("sabse", "bekar", "worst"),
    ("as", "of", "as"),
    ("as", "on", "as"),
    ("sabse", "achha", "best"),
    ("sabse", "bura", "worst"),
    ("is", "saal", "this year"),
    ("iss", "saal", "this year"),
    ("is", "sal", "this year"),
    ("is", "mahine", "this month"),
    ("iss", "mahine", "this month"),
    ("is", "hafte", "this week"),
    ("iss", "hafte", "this week"),
    ("kaun", "sa", "which"),
    ("kaun", "si", "which"),
    ("kaun", "se", "which"),
    ("kon", "sa", "which"),
    ("kon", "si", "which"),
    ("kon", "se", "which"),
    ("mere", "paas", "i have"),
    ("mere", "pas", "i have"),
    ("hamare", "paas", "i have"),
    ("invest", "kiya", "invested"),
    ("invest", "kiye", "invested"),
    ("invest", "kia", "invested"),
    ("buy", "kiya", "bought"),
    ("buy", "kiye", "bought"),
    ("sell", "kiya", "sold"),
    ("sell", "kiye", "sold"),
    ("trade", "kiya", "traded"),
    ("trade", "kiye", "traded"),
    ("trades", "kiye", "trades"),
    ("book", "kiya", "booked"),
    ("book", "kiye", "booked"),
    ("book", "hua", "booked"),
    ("bech", "diya", "sold"),
    ("by", "orders", "buy orders"),
    ("by", "trades", "buy trades"),
    ("by", "order", "buy order"),
    ("bech", "du", "should sell"),
    ("bech", "doon", "should sell"),
    ("le", "lu", "should buy"),
    ("le", "loon", "should buy"),
    ("kharid", "lu", "should buy"),
    ("bech", "diye", "sold"),
    ("le", "liya", "bought"),
    ("loss", "mein", "in loss"),
    ("loss", "me", "in loss"),
    ("profit", "mein", "in profit"),
    ("profit", "me", "in profit"),
];

/// Single words: (Hinglish or a common slip, English; empty drops it).
const WORDS: &[(&str, &str)] = &[
    ("kitne", "how many"),
    ("kitni", "how much"),
    ("kitna", "how much"),
    ("kitnaa", "how much"),
    ("ktne", "how many"),
    ("ktna", "how much"),
    ("kab", "when"),
    ("kaunsa", "which"),
    ("kaunsi", "which"),
    ("kaunse", "which"),
    ("konsa", "which"),
    ("konsi", "which"),
    ("konse", "which"),
    ("kis", "which"),
    ("kisme", "which"),
    ("kismein", "which"),
    ("kiska", "which"),
    ("kiske", "which"),
    ("kya", ""),
    ("kia", ""),
    ("mera", "my"),
    ("meri", "my"),
    ("mere", "my"),
    ("apna", "my"),
    ("apni", "my"),
    ("apne", "my"),
    ("hamara", "my"),
    ("hamari", "my"),
    ("hamare", "my"),
    ("maine", "i"),
    ("mai", "i"),
    ("main", "i"),
    ("mujhe", "i"),
    ("mujhko", "i"),
    ("humne", "i"),
    ("hum", "i"),
    ("pehli", "first"),
    ("pehla", "first"),
    ("pehle", "first"),
    ("pahla", "first"),
    ("aakhri", "last"),
    ("akhri", "last"),
    ("pichle", "last"),
    ("pichhle", "last"),
    ("pichla", "last"),
    ("pichhla", "last"),
    ("pichli", "last"),
    ("saal", "year"),
    ("sal", "year"),
    ("varsh", "year"),
    ("mahina", "month"),
    ("mahine", "month"),
    ("hafta", "week"),
    ("hafte", "week"),
    ("din", "days"),
    ("dino", "days"),
    ("dinon", "days"),
    ("aaj", "today"),
    ("aj", "today"),
    ("kal", "yesterday"),
    ("abhi", "now"),
    ("ab", "now"),
    ("kul", "total"),
    ("sab", "all"),
    ("sabhi", "all"),
    ("aur", "and"),
    ("ya", "or"),
    ("zyada", "more"),
    ("jyada", "more"),
    ("kharida", "bought"),
    ("kharide", "bought"),
    ("kharidi", "bought"),
    ("khareeda", "bought"),
    ("khareede", "bought"),
    ("khareedi", "bought"),
    ("kharid", "bought"),
    ("khareed", "bought"),
    ("liya", "bought"),
    ("liye", "bought"),
    ("lia", "bought"),
    ("khareedna", "buy"),
    ("kharidna", "buy"),
    ("kharidu", "should buy"),
    ("khareedu", "should buy"),
    ("kharido", "should buy"),
    ("khareedo", "should buy"),
    ("becha", "sold"),
    ("beche", "sold"),
    ("bechi", "sold"),
    ("bech", "sold"),
    ("nikala", "sold"),
    ("nikale", "sold"),
    ("becho", "should sell"),
    ("bechu", "should sell"),
    ("bechna", "sell"),
    ("lagaya", "invested"),
    ("lagaye", "invested"),
    ("lagayi", "invested"),
    ("lagai", "invested"),
    ("laga", "invested"),
    ("lage", "invested"),
    ("daala", "invested"),
    ("dala", "invested"),
    ("daale", "invested"),
    ("paisa", "money"),
    ("paise", "money"),
    ("rupaye", "money"),
    ("munafa", "profit"),
    ("munafaa", "profit"),
    ("fayda", "profit"),
    ("faida", "profit"),
    ("faayda", "profit"),
    ("kamai", "profit"),
    ("kamaya", "profit"),
    ("kamaye", "profit"),
    ("nuksan", "loss"),
    ("nuksaan", "loss"),
    ("nuqsan", "loss"),
    ("nukasan", "loss"),
    ("nukshan", "loss"),
    ("ghata", "loss"),
    ("ghaata", "loss"),
    ("keemat", "value"),
    ("kimat", "value"),
    ("qeemat", "value"),
    ("daam", "value"),
    ("chahiye", "should"),
    ("chahie", "should"),
    ("batao", "show"),
    ("bata", "show"),
    ("bataiye", "show"),
    ("batana", "show"),
    ("btao", "show"),
    ("dikhao", "show"),
    ("dikha", "show"),
    ("dikhaiye", "show"),
    ("dikhado", "show"),
    ("uska", "it"),
    ("ye", "it"),
    ("yeh", "it"),
    ("woh", "it"),
    ("wo", "it"),
    ("vo", "it"),
    ("kharab", "bad"),
    ("hisaab", ""),
    ("hisab", ""),
    ("uske", "it"),
    ("uski", "it"),
    ("usme", "it"),
    ("usmein", "it"),
    ("usne", "it"),
    ("iska", "it"),
    ("iske", "it"),
    ("iski", "it"),
    ("isme", "it"),
    ("usko", "it"),
    ("isko", "it"),
    ("unko", "them"),
    ("unka", "them"),
    ("unki", "them"),
    ("unke", "them"),
    ("inka", "them"),
    ("inke", "them"),
    ("weightage", "weight"),
    ("brought", "bought"),
    ("loosing", "losing"),
    ("looses", "losses"),
    ("hai", ""),
    ("hain", ""),
    ("he", ""),
    ("tha", ""),
    ("thi", ""),
    ("hoon", ""),
    ("hu", ""),
    ("hua", ""),
    ("hue", ""),
    ("huye", ""),
    ("hui", ""),
    ("hoga", ""),
    ("ho", ""),
    ("gaya", ""),
    ("gayi", ""),
    ("ka", ""),
    ("ke", ""),
    ("ki", ""),
    ("ko", ""),
    ("se", ""),
    ("mein", "in"),
    ("pe", "on"),
    ("par", "on"),
    ("tak", ""),
    ("ne", ""),
    ("kiya", ""),
    ("kiye", ""),
    ("kar", ""),
    ("karo", ""),
    ("kardo", ""),
    ("diya", ""),
    ("diye", ""),
    ("wala", ""),
    ("wale", ""),
    ("wali", ""),
    ("yaar", ""),
    ("bhai", ""),
    ("bro", ""),
    ("ji", ""),
    ("pls", ""),
    ("plz", ""),
    ("please", ""),
    ("zara", ""),
    ("paas", "have"),
    ("bhara", "paid"),
    ("dena", "pay"),
    ("dene", "pay"),
    ("dunga", "pay"),
    ("lagega", "owe"),
    ("jayega", "will"),
    ("karega", "will"),
    ("karegi", "will"),
    ("sould", "sold"),
    ("soled", "sold"),
    ("selled", "sold"),
    ("jayegi", "will"),
    ("jaega", "will"),
    ("jaayega", "will"),
    ("rahega", "will"),
    ("badhega", "will up"),
    ("girega", "will down"),
    ("upar", "up"),
    ("neeche", "down"),
    ("niche", "down"),
    ("pf", "portfolio"),
    ("bhare", "paid"),
    ("bhari", "paid"),
    ("chukaya", "paid"),
    ("kata", "deducted"),
    ("kati", "deducted"),
    ("kate", "deducted"),
    ("khareedun", "should buy"),
    ("kharidun", "should buy"),
    ("bechun", "should sell"),
    ("chhota", "small"),
    ("chhote", "small"),
    ("chhoti", "small"),
    ("chota", "small"),
    ("chote", "small"),
    ("bada", "big"),
    ("bade", "big"),
    ("badi", "big"),
    ("sirf", "only"),
    ("bas", "just"),
    ("dono", "both"),
    ("milake", "together"),
    ("milaake", "together"),
    ("gira", "down"),
    ("gire", "down"),
    ("giri", "down"),
    ("chadha", "up"),
    ("badha", "up"),
    // SMS spellings of English.
    ("hw", "how"),
    ("h", ""),
    ("wat", "what"),
    ("wht", "what"),
    ("wen", "when"),
    ("whn", "when"),
    ("wich", "which"),
    ("whch", "which"),
    ("u", "you"),
    ("ur", "your"),
    ("abt", "about"),
    ("chk", "check"),
    ("qnty", "quantity"),
    ("pas", "have"),
];

/// A year or a month, which Hindi follows with its postposition.
fn dated(word: &str) -> bool {
    word.parse::<i32>()
        .is_ok_and(|y| (1990..=2100).contains(&y))
        || super::period::is_month(word)
}

/// `words` (lowercased, as [`super::intent::words`] gives them) with
/// Hinglish read into English.
pub fn normalize(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let next = words.get(i + 1).map(String::as_str);
        if let Some((_, _, english)) = PHRASES
            .iter()
            .find(|(a, b, _)| *a == word && Some(*b) == next)
        {
            out.extend(english.split(' ').map(str::to_string));
            i += 2;
            continue;
        }
        // `2024 se`, `march se`: since then.
        if word == "se" && out.last().is_some_and(|b| dated(b)) {
            let at = out.len() - 1;
            out.insert(at, "since".to_string());
            i += 1;
            continue;
        }
        // `2024 mein`, `march ka`: Hindi puts the postposition after the
        // year or month; English puts "in" before it.
        if matches!(word, "mein" | "me" | "main" | "ka" | "ke" | "ki" | "mai")
            && out.last().is_some_and(|b| dated(b))
        {
            let at = out.len() - 1;
            out.insert(at, "in".to_string());
            i += 1;
            continue;
        }
        // `kitne/kitna … ka`: worth how much ("mere shares kitne ke hain").
        if matches!(word, "kitne" | "kitna" | "kitni") && matches!(next, Some("ka" | "ke" | "ki")) {
            out.extend(["worth", "how", "much"].map(str::to_string));
            i += 2;
            continue;
        }
        // `kitne mein liya`: at what price.
        if matches!(word, "kitne" | "kitna")
            && matches!(next, Some("mein" | "me" | "main" | "pe" | "par"))
        {
            out.extend(["average", "price"].map(str::to_string));
            i += 2;
            continue;
        }
        // "As of today", "till today": now, not today's change.
        if matches!(word, "today" | "aaj")
            && out
                .last()
                .is_some_and(|b| matches!(b.as_str(), "as" | "till" | "until" | "upto"))
        {
            out.push("now".to_string());
            i += 1;
            continue;
        }
        match WORDS.iter().find(|(w, _)| *w == word) {
            Some((_, english)) => out.extend(
                english
                    .split(' ')
                    .filter(|e| !e.is_empty())
                    .map(str::to_string),
            ),
            None => out.push(words[i].clone()),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> String {
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        normalize(&words).join(" ")
    }

    #[test]
    fn hinglish_reads_as_english() {
        assert_eq!(
            read("infy ke kitne share hai mere paas"),
            "infy how many share i have"
        );
        assert_eq!(read("tcs kitni baar kharida"), "tcs how many times bought");
        assert_eq!(read("pehli baar kab liya tha"), "first when bought");
        assert_eq!(
            read("sabse zyada nuksan kis stock mein"),
            "most loss which stock in"
        );
        assert_eq!(read("2024 se kitna profit"), "since 2024 how much profit");
        assert_eq!(
            read("mere shares kitne ke hain"),
            "my shares worth how much"
        );
        assert_eq!(read("pichle saal ka realized"), "last year realized");
    }
}
