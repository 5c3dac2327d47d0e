"""Static reference data for the synthetic shop: countries, cities, categories, brands.

Kept as plain tables so the generator stays vectorised and the tests can read the same facts.
"""

from __future__ import annotations

# country -> (share of customers, Faker locale for names, email domains, cities as (city, region, weight))
COUNTRIES: dict[str, tuple[float, str, tuple[str, ...], tuple[tuple[str, str, float], ...]]] = {
    "United States": (
        0.30,
        "en_US",
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
        (
            ("New York", "New York", 8.3),
            ("Los Angeles", "California", 3.9),
            ("Chicago", "Illinois", 2.7),
            ("Houston", "Texas", 2.3),
            ("Phoenix", "Arizona", 1.6),
            ("Philadelphia", "Pennsylvania", 1.6),
            ("San Antonio", "Texas", 1.5),
            ("San Diego", "California", 1.4),
            ("Dallas", "Texas", 1.3),
            ("Seattle", "Washington", 0.8),
            ("Denver", "Colorado", 0.7),
            ("Boston", "Massachusetts", 0.7),
            ("Miami", "Florida", 0.5),
            ("Atlanta", "Georgia", 0.5),
        ),
    ),
    "United Kingdom": (
        0.14,
        "en_GB",
        ("gmail.com", "hotmail.co.uk", "outlook.com", "btinternet.com"),
        (
            ("London", "England", 9.0),
            ("Birmingham", "England", 1.1),
            ("Manchester", "England", 0.55),
            ("Leeds", "England", 0.8),
            ("Glasgow", "Scotland", 0.63),
            ("Edinburgh", "Scotland", 0.53),
            ("Bristol", "England", 0.47),
            ("Cardiff", "Wales", 0.36),
            ("Belfast", "Northern Ireland", 0.34),
        ),
    ),
    "Germany": (
        0.12,
        "de_DE",
        ("gmail.com", "web.de", "gmx.de", "t-online.de"),
        (
            ("Berlin", "Berlin", 3.7),
            ("Hamburg", "Hamburg", 1.9),
            ("Munich", "Bavaria", 1.5),
            ("Cologne", "North Rhine-Westphalia", 1.1),
            ("Frankfurt", "Hesse", 0.76),
            ("Stuttgart", "Baden-Württemberg", 0.63),
            ("Düsseldorf", "North Rhine-Westphalia", 0.62),
            ("Leipzig", "Saxony", 0.6),
        ),
    ),
    "France": (
        0.08,
        "fr_FR",
        ("gmail.com", "orange.fr", "free.fr", "laposte.net"),
        (
            ("Paris", "Île-de-France", 2.1),
            ("Marseille", "Provence-Alpes-Côte d'Azur", 0.87),
            ("Lyon", "Auvergne-Rhône-Alpes", 0.52),
            ("Toulouse", "Occitanie", 0.49),
            ("Nice", "Provence-Alpes-Côte d'Azur", 0.34),
            ("Nantes", "Pays de la Loire", 0.32),
            ("Bordeaux", "Nouvelle-Aquitaine", 0.26),
        ),
    ),
    "Canada": (
        0.06,
        "en_CA",
        ("gmail.com", "outlook.com", "yahoo.ca"),
        (
            ("Toronto", "Ontario", 2.8),
            ("Montreal", "Quebec", 1.8),
            ("Calgary", "Alberta", 1.3),
            ("Ottawa", "Ontario", 1.0),
            ("Vancouver", "British Columbia", 0.68),
            ("Edmonton", "Alberta", 1.0),
        ),
    ),
    "Spain": (
        0.05,
        "es_ES",
        ("gmail.com", "hotmail.es", "yahoo.es"),
        (
            ("Madrid", "Community of Madrid", 3.3),
            ("Barcelona", "Catalonia", 1.6),
            ("Valencia", "Valencian Community", 0.8),
            ("Seville", "Andalusia", 0.68),
            ("Zaragoza", "Aragon", 0.67),
            ("Málaga", "Andalusia", 0.58),
        ),
    ),
    "Italy": (
        0.05,
        "it_IT",
        ("gmail.com", "libero.it", "virgilio.it"),
        (
            ("Rome", "Lazio", 2.8),
            ("Milan", "Lombardy", 1.4),
            ("Naples", "Campania", 0.92),
            ("Turin", "Piedmont", 0.85),
            ("Palermo", "Sicily", 0.63),
            ("Bologna", "Emilia-Romagna", 0.39),
        ),
    ),
    "Netherlands": (
        0.04,
        "nl_NL",
        ("gmail.com", "ziggo.nl", "kpnmail.nl"),
        (
            ("Amsterdam", "North Holland", 0.92),
            ("Rotterdam", "South Holland", 0.66),
            ("The Hague", "South Holland", 0.55),
            ("Utrecht", "Utrecht", 0.36),
            ("Eindhoven", "North Brabant", 0.24),
        ),
    ),
    "Australia": (
        0.05,
        "en_AU",
        ("gmail.com", "bigpond.com", "outlook.com"),
        (
            ("Sydney", "New South Wales", 5.3),
            ("Melbourne", "Victoria", 5.1),
            ("Brisbane", "Queensland", 2.6),
            ("Perth", "Western Australia", 2.1),
            ("Adelaide", "South Australia", 1.4),
        ),
    ),
    "Sweden": (
        0.03,
        "sv_SE",
        ("gmail.com", "telia.com", "hotmail.se"),
        (
            ("Stockholm", "Stockholm County", 0.98),
            ("Gothenburg", "Västra Götaland", 0.6),
            ("Malmö", "Skåne", 0.35),
            ("Uppsala", "Uppsala County", 0.24),
        ),
    ),
    "Poland": (
        0.03,
        "pl_PL",
        ("gmail.com", "wp.pl", "onet.pl"),
        (
            ("Warsaw", "Masovia", 1.8),
            ("Kraków", "Lesser Poland", 0.8),
            ("Wrocław", "Lower Silesia", 0.67),
            ("Łódź", "Łódź Voivodeship", 0.66),
            ("Gdańsk", "Pomerania", 0.47),
        ),
    ),
    "Brazil": (
        0.025,
        "pt_BR",
        ("gmail.com", "hotmail.com", "uol.com.br"),
        (
            ("São Paulo", "São Paulo", 12.3),
            ("Rio de Janeiro", "Rio de Janeiro", 6.7),
            ("Brasília", "Federal District", 3.0),
            ("Salvador", "Bahia", 2.9),
            ("Belo Horizonte", "Minas Gerais", 2.5),
        ),
    ),
    "Mexico": (
        0.02,
        "es_MX",
        ("gmail.com", "hotmail.com", "yahoo.com.mx"),
        (
            ("Mexico City", "Mexico City", 9.2),
            ("Guadalajara", "Jalisco", 1.5),
            ("Monterrey", "Nuevo León", 1.1),
            ("Puebla", "Puebla", 1.7),
        ),
    ),
    "Ireland": (
        0.015,
        "en_IE",
        ("gmail.com", "eircom.net", "outlook.com"),
        (
            ("Dublin", "Leinster", 1.2),
            ("Cork", "Munster", 0.21),
            ("Galway", "Connacht", 0.08),
            ("Limerick", "Munster", 0.1),
        ),
    ),
    "Denmark": (
        0.015,
        "da_DK",
        ("gmail.com", "hotmail.dk", "jubii.dk"),
        (
            ("Copenhagen", "Capital Region", 0.64),
            ("Aarhus", "Central Denmark", 0.29),
            ("Odense", "Southern Denmark", 0.18),
            ("Aalborg", "North Denmark", 0.12),
        ),
    ),
}

#: Country -> market (continent-level region used for rollups and the map's ISO code).
COUNTRY_MARKET: dict[str, tuple[str, str]] = {
    "United States": ("North America", "USA"),
    "United Kingdom": ("Europe", "GBR"),
    "Germany": ("Europe", "DEU"),
    "France": ("Europe", "FRA"),
    "Canada": ("North America", "CAN"),
    "Spain": ("Europe", "ESP"),
    "Italy": ("Europe", "ITA"),
    "Netherlands": ("Europe", "NLD"),
    "Australia": ("Oceania", "AUS"),
    "Sweden": ("Europe", "SWE"),
    "Poland": ("Europe", "POL"),
    "Brazil": ("Latin America", "BRA"),
    "Mexico": ("Latin America", "MEX"),
    "Ireland": ("Europe", "IRL"),
    "Denmark": ("Europe", "DNK"),
}

# category -> (share of catalogue, median list price, gross margin, return probability, nouns)
CATEGORIES: dict[str, tuple[float, float, float, float, tuple[str, ...]]] = {
    "Electronics": (0.12, 120.0, 0.18, 0.06, ("Headphones", "Speaker", "Smartwatch", "Camera", "Charger", "Earbuds")),
    "Computers": (0.06, 450.0, 0.12, 0.05, ("Laptop", "Monitor", "Keyboard", "Mouse", "Tablet", "SSD")),
    "Home & Kitchen": (0.14, 45.0, 0.35, 0.04, ("Blender", "Pan Set", "Knife Block", "Kettle", "Toaster", "Lamp")),
    "Fashion": (0.16, 40.0, 0.55, 0.18, ("T-Shirt", "Jeans", "Dress", "Jacket", "Sweater", "Scarf")),
    "Shoes": (0.07, 75.0, 0.50, 0.15, ("Sneakers", "Boots", "Sandals", "Loafers", "Running Shoes")),
    "Beauty": (0.10, 22.0, 0.60, 0.03, ("Serum", "Moisturiser", "Lipstick", "Shampoo", "Perfume")),
    "Sports & Outdoors": (0.09, 55.0, 0.40, 0.05, ("Yoga Mat", "Tent", "Backpack", "Dumbbells", "Bike Helmet")),
    "Toys & Games": (0.08, 28.0, 0.40, 0.04, ("Puzzle", "Board Game", "Building Set", "Doll", "RC Car")),
    "Books": (0.08, 16.0, 0.30, 0.02, ("Novel", "Cookbook", "Guide", "Biography", "Atlas")),
    "Grocery": (0.06, 9.0, 0.25, 0.01, ("Coffee", "Tea", "Olive Oil", "Chocolate", "Granola")),
    "Garden": (0.04, 35.0, 0.38, 0.04, ("Hose", "Planter", "Pruner", "Grill", "Seeds Kit")),
}

ADJECTIVES: tuple[str, ...] = (
    "Classic", "Pro", "Essential", "Premium", "Compact", "Eco", "Ultra", "Smart", "Urban",
    "Deluxe", "Lite", "Signature", "Everyday", "Travel", "Vintage", "Max",
)

BRAND_STEMS: tuple[str, ...] = (
    "Nord", "Vela", "Orion", "Kappa", "Lumen", "Atlas", "Brisa", "Cobalt", "Delta", "Ember",
    "Fable", "Granite", "Harbor", "Iris", "Juno", "Kestrel", "Larch", "Mosaic", "Nimbus", "Onyx",
    "Pioneer", "Quill", "Raven", "Summit", "Tidal", "Umber", "Vertex", "Willow", "Xeno", "Yarrow",
    "Zephyr", "Alder", "Birch", "Cedar", "Dune", "Echo", "Flint", "Grove", "Haven", "Indigo",
)
BRAND_SUFFIXES: tuple[str, ...] = ("", " Co.", " Labs", " & Sons", " Studio", " Works", " Home", " Gear")

#: payment method mix per country (the default mix applies to countries not listed).
PAYMENT_MIX: dict[str, dict[str, float]] = {
    "default": {"credit_card": 0.45, "paypal": 0.25, "debit_card": 0.15, "apple_pay": 0.10, "bank_transfer": 0.05},
    "Germany": {"paypal": 0.40, "bank_transfer": 0.25, "credit_card": 0.15, "debit_card": 0.15, "apple_pay": 0.05},
    "Netherlands": {"bank_transfer": 0.45, "paypal": 0.20, "credit_card": 0.20, "debit_card": 0.10, "apple_pay": 0.05},
    "Brazil": {"credit_card": 0.55, "bank_transfer": 0.20, "debit_card": 0.10, "cash_on_delivery": 0.15},
    "Mexico": {"credit_card": 0.40, "debit_card": 0.25, "paypal": 0.10, "cash_on_delivery": 0.25},
    "Poland": {"bank_transfer": 0.35, "credit_card": 0.25, "paypal": 0.15, "debit_card": 0.15, "cash_on_delivery": 0.10},
}
