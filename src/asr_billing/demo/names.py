"""Believable Russian personal data for the demo: names, companies, addresses, phones.

Everything is drawn from a ``random.Random`` passed in, so a fixed seed gives the same
people every time. The town (Новореченск) and its streets are made up; INNs carry valid
check digits because 1C validates them on import.
"""

from __future__ import annotations

import random

TOWN = "г. Новореченск"
POSTCODE = "143900"
REGION = "50"  # the region part of INN and KPP

MALE_SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв",
    "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов",
    "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв",
    "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
    "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов",
    "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков",
    "Горбунов", "Анисимов", "Еремеев", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов",
    "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
    "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов", "Мальцев", "Логинов", "Горшков",
    "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
    "Дьячков", "Зуев", "Мухин", "Третьяков", "Шевченко", "Бондаренко", "Ткаченко", "Ким",
    "Островский", "Вишневский", "Полонский", "Толстой", "Крутой",
]

MALE_NAMES = [
    "Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
    "Кирилл", "Михаил", "Никита", "Матвей", "Роман", "Егор", "Арсений", "Иван", "Денис",
    "Евгений", "Даниил", "Тимофей", "Владислав", "Игорь", "Владимир", "Павел", "Руслан",
    "Марк", "Константин", "Тимур", "Олег", "Ярослав", "Антон", "Николай", "Глеб", "Данил",
    "Савелий", "Вадим", "Степан", "Юрий", "Богдан", "Артур", "Виктор", "Геннадий", "Пётр",
    "Анатолий", "Василий", "Валерий", "Григорий", "Леонид", "Станислав", "Фёдор",
]

FEMALE_NAMES = [
    "Анастасия", "Анна", "Мария", "Елена", "Дарья", "Алина", "Ирина", "Екатерина",
    "Арина", "Полина", "Ольга", "Юлия", "Татьяна", "Наталья", "Виктория", "Елизавета",
    "Ксения", "Милана", "Вероника", "Алиса", "Валерия", "Александра", "Ульяна", "Кристина",
    "София", "Марина", "Светлана", "Варвара", "Диана", "Кира", "Людмила", "Галина",
    "Надежда", "Любовь", "Вера", "Нина", "Тамара", "Лариса", "Оксана", "Евгения",
]

# (male, female) patronymics.
PATRONYMICS = [
    ("Александрович", "Александровна"), ("Дмитриевич", "Дмитриевна"),
    ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"), ("Алексеевич", "Алексеевна"),
    ("Михайлович", "Михайловна"), ("Иванович", "Ивановна"), ("Николаевич", "Николаевна"),
    ("Владимирович", "Владимировна"), ("Викторович", "Викторовна"),
    ("Юрьевич", "Юрьевна"), ("Петрович", "Петровна"), ("Васильевич", "Васильевна"),
    ("Анатольевич", "Анатольевна"), ("Игоревич", "Игоревна"), ("Олегович", "Олеговна"),
    ("Евгеньевич", "Евгеньевна"), ("Павлович", "Павловна"), ("Геннадьевич", "Геннадьевна"),
    ("Валерьевич", "Валерьевна"), ("Борисович", "Борисовна"), ("Романович", "Романовна"),
    ("Константинович", "Константиновна"), ("Григорьевич", "Григорьевна"),
    ("Фёдорович", "Фёдоровна"), ("Леонидович", "Леонидовна"), ("Ильич", "Ильинична"),
    ("Максимович", "Максимовна"), ("Артёмович", "Артёмовна"), ("Степанович", "Степановна"),
]

COMPANY_NAMES = [
    "Северный ветер", "ТехноСервис", "СтройИнвест", "Альфа-Логистик", "Хлебный дом",
    "Аптека «Здоровье»", "Автомир", "Доктор рядом", "Уютный дом", "ПромСнаб",
    "Новореченский молокозавод", "Лесная сказка", "Гарант-Консалт", "Электрон", "Меридиан",
    "Вектор", "Домострой",
    "РечТорг", "АгроПлюс", "Стоматология «Улыбка»", "Центр развития «Умка»", "Фитнес-клуб «Атлет»",
    "Кафе «Причал»", "Цветочная лавка", "Бухгалтерия онлайн", "Оптима", "Спектр",
    "Городская типография", "Мебельная фабрика «Кедр»", "Транзит", "Эталон", "Горизонт",
    "Сервисный центр «Мастер»", "Автосервис «Колесо»", "Гостиница «Речная»", "Интеграл",
    "Проектное бюро «Линия»", "Салон красоты «Лотос»", "Охранное агентство «Щит»",
    "Теплосеть-Сервис",
]
COMPANY_FORMS = ["ООО", "ООО", "ООО", "АО", "ИП"]

STREETS = {
    "center": [
        "ул. Ленина", "ул. Советская", "ул. Мира", "пр-т Победы", "ул. Гагарина",
        "ул. Пушкина", "ул. Кирова", "ул. Комсомольская", "ул. Первомайская", "пл. Революции",
    ],
    "north": [
        "ул. Северная", "ул. Полярная", "ул. Молодёжная", "ул. Строителей",
        "ул. Космонавтов", "ул. Энтузиастов", "мкр. Северный",
    ],
    "river": [
        "пос. Заречный, ул. Лесная", "пос. Заречный, ул. Речная",
        "пос. Заречный, ул. Садовая", "пос. Заречный, ул. Школьная",
        "пос. Заречный, пер. Рыбацкий",
    ],
    "business": [
        "ул. Промышленная", "ул. Индустриальная", "ул. Заводская", "ул. Ленина",
        "пр-т Победы", "ул. Складская", "ул. Деловая",
    ],
}

MOBILE_CODES = ["01", "03", "05", "06", "09", "10", "15", "16", "17", "26", "37", "51", "60",
                "62", "85", "99"]
EMAIL_DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "rambler.ru", "inbox.ru"]

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}


def translit(text: str) -> str:
    """Lower-case Latin letters and digits only (for logins and e-mail addresses)."""
    out = []
    for ch in text.lower():
        if ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
    return "".join(out)


def female_surname(male: str) -> str:
    for ending, female in (("ский", "ская"), ("цкий", "цкая"), ("ой", "ая")):
        if male.endswith(ending):
            return male[: -len(ending)] + female
    if male.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return male + "а"
    return male  # Шевченко, Ким: the same for both


def person(rng: random.Random) -> tuple[str, str]:
    """A full name (Фамилия Имя Отчество) and the surname in Latin letters."""
    surname = rng.choice(MALE_SURNAMES)
    patronymic = rng.choice(PATRONYMICS)
    if rng.random() < 0.45:
        full = f"{female_surname(surname)} {rng.choice(FEMALE_NAMES)} {patronymic[1]}"
    else:
        full = f"{surname} {rng.choice(MALE_NAMES)} {patronymic[0]}"
    return full, translit(surname)


def street_address(rng: random.Random, district: str) -> tuple[str, str]:
    """(address, apartment); houses in the river village have no apartments."""
    street = rng.choice(STREETS[district])
    house = rng.randint(1, 120 if district != "river" else 45)
    if rng.random() < 0.15:
        house = f"{house}/{rng.randint(1, 4)}"
    address = f"{TOWN}, {street}, д. {house}"
    if district == "river":
        return address, ""
    return address, str(rng.randint(1, 180))


def mobile(rng: random.Random) -> str:
    """A mobile number in digits, as SMS gateways want it: 79XXXXXXXXX."""
    code = rng.choice(MOBILE_CODES)
    return f"79{code}{rng.randint(0, 9999999):07d}"


def pretty_phone(digits: str) -> str:
    return f"+7 {digits[1:4]} {digits[4:7]}-{digits[7:9]}-{digits[9:11]}"


def email_for(rng: random.Random, latin: str, n: int) -> str:
    return f"{latin}{n}@{rng.choice(EMAIL_DOMAINS)}"


def _check_digit(digits: list[int], weights: list[int]) -> int:
    return sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_company(rng: random.Random) -> str:
    """A 10-digit INN of a legal entity with a valid check digit."""
    digits = [int(c) for c in REGION + "0" + str(rng.randint(1, 9))] + [
        rng.randint(0, 9) for _ in range(5)
    ]
    digits.append(_check_digit(digits, [2, 4, 10, 3, 5, 9, 4, 6, 8]))
    return "".join(map(str, digits))


def inn_person(rng: random.Random) -> str:
    """A 12-digit INN of an individual entrepreneur with valid check digits."""
    digits = [int(c) for c in REGION + "0" + str(rng.randint(1, 9))] + [
        rng.randint(0, 9) for _ in range(6)
    ]
    digits.append(_check_digit(digits, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))
    digits.append(_check_digit(digits, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))
    return "".join(map(str, digits))


def kpp(inn: str) -> str:
    return f"{inn[:4]}01001"


def company(rng: random.Random, used: set[str]) -> dict:
    """A company: display name, INN, KPP (empty for an ИП), short Latin name for e-mail."""
    form = rng.choice(COMPANY_FORMS)
    if form == "ИП":
        full, latin = person(rng)
        name = f"ИП {full}"
        inn = inn_person(rng)
        return {"name": name, "inn": inn, "kpp": "", "latin": latin}
    base = rng.choice([c for c in COMPANY_NAMES if c not in used] or COMPANY_NAMES)
    used.add(base)
    title = base if "«" in base else f"«{base}»"
    inn = inn_company(rng)
    latin = translit(base.split("«")[-1]) or "company"
    return {"name": f"{form} {title}", "inn": inn, "kpp": kpp(inn), "latin": latin[:20]}
