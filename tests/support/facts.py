"""The facts of ../shared/demo-company.md each answer must contain, per language.

Written by hand from the demo-company document, independently of the content file,
so a typo in bot/data/content/faq.yml is caught. Matching ignores case and
non-breaking/extra spaces.
"""

COMMON = {
    "products_overview": ["NW-Press", "NW-Flow", "NW-Connect"],
    "presses": ["P200", "P400", "P800", "200 t", "400 t", "800 t"],
    "software": ["NW-Connect", "OPC UA"],
    "software_price": ["490 EUR"],
    "spare_parts": ["+49 521 555 0100"],
    "maintenance": ["Basic", "Plus", "Premium"],
    "certifications": ["ISO 9001", "ISO 14001", "CE"],
    "contact_hours": ["+49 521 555 0100", "8:00", "17:00", "7:00", "18:00"],
    "company": ["Bielefeld", "1962", "480"],
    "data_protection": ["datenschutz@nordwerk.example"],
    "training": ["Bielefeld"],
    "showroom": ["Bielefeld"],
}

FACTS = {
    "de": {
        "products_overview": ["Hydraulikpressen", "Service"],
        "presses": [],
        "press_price": [
            "P200",
            "85.000 EUR",
            "P400",
            "140.000 EUR",
            "P800",
            "260.000 EUR",
            "netto",
            "ab Werk",
            "Angebot",
        ],
        "conveyors": ["NW-Flow", "modular", "Projekt", "Angebot", "vor Ort"],
        "software": ["Überwachung", "Wartung", "anderer Hersteller"],
        "software_price": ["pro Standort und Monat", "30 Tage", "kostenlos"],
        "delivery_time": ["8 bis 14 Wochen", "24 Stunden", "Deutschland"],
        "spare_parts": ["Ersatzteil", "Shop", "24 Stunden", "Deutschland"],
        "maintenance": ["Techniker", "48 Stunden"],
        "warranty": ["24 Monate"],
        "training": ["vor Ort", "2"],
        "financing": ["Leasing", "Mietkauf", "24 bis 72 Monate"],
        "retrofit": ["Retrofit", "jedes Herstellers", "Steuerung"],
        "case_studies": ["geschäftliche", "E-Mail"],
        "showroom": ["digital", "Live", "Termin"],
        "service_area": ["Deutschland", "Österreich", "Schweiz", "Benelux", "Nordische"],
        "certifications": [],
        "contact_hours": ["Montag bis Freitag"],
        "company": ["familien", "Mitarbeit"],
        "data_protection": ["Anfrage", "widerrufen", "Löschung"],
    },
    "en": {
        "products_overview": ["hydraulic presses", "service"],
        "presses": [],
        "press_price": [
            "P200",
            "85,000 EUR",
            "P400",
            "140,000 EUR",
            "P800",
            "260,000 EUR",
            "net",
            "ex works",
            "quote",
        ],
        "conveyors": ["NW-Flow", "modular", "project", "quote", "on-site"],
        "software": ["monitoring", "predictive maintenance", "other makers"],
        "software_price": ["per site and month", "30-day", "free trial"],
        "delivery_time": ["8 to 14 weeks", "24 hours", "Germany"],
        "spare_parts": ["spare", "shop", "24 hours", "Germany"],
        "maintenance": ["technician", "48 hours"],
        "warranty": ["24 months"],
        "training": ["on site", "2-day"],
        "financing": ["leasing", "rental-purchase", "24 to 72 months"],
        "retrofit": ["retrofit", "any maker", "control"],
        "case_studies": ["business email"],
        "showroom": ["digital showroom", "live demo", "appointment"],
        "service_area": ["Germany", "Austria", "Switzerland", "Benelux", "Nordic"],
        "certifications": [],
        "contact_hours": ["Monday to Friday"],
        "company": ["family-owned", "employees"],
        "data_protection": ["enquiry", "withdraw", "erase"],
    },
}


def required_facts(topic: str, language: str) -> list[str]:
    return COMMON.get(topic, []) + FACTS[language][topic]


def normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).lower()


def missing_facts(answer: str, topic: str, language: str) -> list[str]:
    return [
        fact for fact in required_facts(topic, language) if normalise(fact) not in normalise(answer)
    ]
