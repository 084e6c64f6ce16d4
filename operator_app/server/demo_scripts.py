"""Conversation scripts for the demo data and the traffic simulator (Russian and English)."""

from __future__ import annotations

# (author, text): "c" customer, "o" operator, "n" internal comment, "s" system line
Script = list[tuple[str, str]]

RU_SCRIPTS: dict[str, Script] = {
    "delivery": [
        ("c", "Здравствуйте! Заказ №{order} должен был приехать вчера, но его до сих пор нет."),
        ("o", "Здравствуйте, {client}! Меня зовут {operator}, сейчас проверю статус заказа."),
        ("c", "Спасибо, жду."),
        ("n", "Склад подтвердил отгрузку, посылка у курьерской службы."),
        ("o", "Посылка передана в курьерскую службу, доставка ожидается завтра до 18:00."),
        ("c", "А можно перенести на субботу? В будни меня нет дома."),
        ("o", "Да, оформила перенос на субботу, курьер позвонит за час."),
        ("c", "Отлично, спасибо большое!"),
    ],
    "refund": [
        ("c", "Добрый день. Хочу вернуть деньги за заказ №{order}, товар пришёл с браком."),
        ("o", "Добрый день! Очень жаль. Пришлите, пожалуйста, фото дефекта."),
        ("c", "Отправила фото на почту, там трещина на корпусе."),
        ("n", "Фото получено, брак очевиден — согласовать возврат без экспертизы."),
        ("o", "Спасибо, возврат оформлен. Деньги поступят на карту в течение 5 рабочих дней."),
        ("c", "А курьер заберёт товар?"),
        ("o", "Да, курьер приедет в четверг, упаковка не обязательна."),
    ],
    "tariff": [
        ("c", "Подскажите, какой тариф выгоднее, если я звоню в основном за границу?"),
        ("o", "Здравствуйте! Для международных звонков подойдёт тариф «Мир без границ»."),
        ("c", "Сколько он стоит в месяц?"),
        ("o", "690 ₽ в месяц, 300 минут на любые страны и 20 ГБ интернета."),
        ("c", "А переход платный?"),
        ("o", "Переход бесплатный, новый тариф начнёт действовать с завтрашнего дня."),
        ("c", "Тогда переключите, пожалуйста."),
        ("o", "Готово! Тариф сменится в 00:00. Что-нибудь ещё?"),
    ],
    "password": [
        ("c", "Не могу войти в личный кабинет, пишет «неверный пароль»."),
        ("o", "Здравствуйте! Давайте восстановим доступ. На какую почту зарегистрирован аккаунт?"),
        ("c", "{email}"),
        ("o", "Отправила ссылку для сброса пароля, она действует 30 минут."),
        ("c", "Письма нет, даже в спаме."),
        ("n", "Почтовый сервис клиента режет наши письма, отправить SMS-код."),
        ("o", "Отправила код в SMS на номер из профиля, введите его на странице входа."),
        ("c", "Получилось, спасибо!"),
    ],
    "invoice": [
        ("c", "Добрый день, нужен счёт на оплату для юрлица, ООО «Вектор»."),
        ("o", "Добрый день! Пришлите, пожалуйста, ИНН и юридический адрес."),
        ("c", "ИНН 7701234567, Москва, ул. Лесная, 5."),
        ("o", "Счёт №{order} выставлен и отправлен на почту, оплатить нужно в течение 5 дней."),
        ("c", "А закрывающие документы будут?"),
        ("o", "Да, акт придёт в ЭДО после оплаты."),
    ],
    "payment": [
        ("c", "Не проходит оплата картой, пишет «операция отклонена»."),
        ("o", "Здравствуйте! Какой банк выпустил карту?"),
        ("c", "Сбер, карта Мир."),
        ("n", "У эквайера сбой с картами Мир с 10:00, инцидент открыт."),
        ("o", "Сейчас у платёжного шлюза временные сложности, попробуйте через час или по СБП."),
        ("c", "По СБП прошло, спасибо."),
    ],
    "address": [
        ("c", "Можно изменить адрес доставки в заказе №{order}?"),
        ("o", "Здравствуйте! Да, пока заказ не передан курьеру. Какой новый адрес?"),
        ("c", "Санкт-Петербург, Невский проспект, 28, кв. 14."),
        ("o", "Адрес изменён, срок доставки не изменился."),
    ],
    "blocked": [
        ("c", "Мой аккаунт заблокировали, почему?"),
        (
            "o",
            "Здравствуйте! Блокировка сработала после нескольких попыток входа с разных устройств.",
        ),
        ("c", "Это был я, с нового телефона."),
        ("n", "Проверил логи: входы из одного города, риск низкий, разблокирую."),
        ("o", "Разблокировали аккаунт. Рекомендуем включить двухфакторную защиту."),
    ],
}

EN_SCRIPTS: dict[str, Script] = {
    "delivery": [
        ("c", "Hi, my order #{order} was supposed to arrive yesterday. Any news?"),
        ("o", "Hello {client}, this is {operator}. Let me check the tracking for you."),
        ("o", "The parcel is at the local depot and will be delivered tomorrow morning."),
        ("c", "Great, thanks!"),
    ],
    "refund": [
        ("c", "Hello, I'd like a refund for order #{order}, the size doesn't fit."),
        ("o", "Hi! Sure, you can return it within 30 days. I've emailed you a return label."),
        ("c", "How long does the refund take?"),
        ("o", "Usually 3-5 business days after we receive the parcel."),
    ],
    "password": [
        ("c", "I can't log in, the reset email never arrives."),
        ("o", "Hello! Which email address is on your account?"),
        ("c", "{email}"),
        ("n", "Address was mistyped at signup: gmial.com. Fixing it."),
        ("o", "There was a typo in your address; I've corrected it and sent a new link."),
        ("c", "Got it, I'm in now. Thank you!"),
    ],
    "invoice": [
        ("c", "Could you send me the invoice for last month? I can't find it in my account."),
        ("o", "Of course! I've just sent invoice #{order} to your email."),
        ("c", "Thanks, and can you add our VAT number to it?"),
        ("o", "Done, the updated invoice is on its way."),
    ],
    "payment": [
        ("c", "My card payment keeps failing with 'transaction declined'."),
        ("o", "Sorry about that! Which bank issued the card?"),
        ("c", "Revolut, a Visa debit card."),
        ("n", "Gateway shows 3-D Secure timeouts for Revolut since 10:00, incident open."),
        ("o", "The payment gateway has a temporary issue. Could you try PayPal meanwhile?"),
        ("c", "PayPal worked, thanks."),
    ],
    "address": [
        ("c", "Can I change the delivery address for order #{order}?"),
        ("o", "Yes, as long as it hasn't reached the courier yet. What's the new address?"),
        ("c", "221B Baker Street, London NW1 6XE."),
        ("o", "Updated! The delivery date stays the same."),
        ("c", "Great. Will the courier call before coming?"),
        ("o", "Yes, about an hour before arrival."),
    ],
}

# Lines the simulator sends: first messages of new dialogs and follow-ups.
RU_OPENERS = [
    "Здравствуйте! Где мой заказ №{order}?",
    "Добрый день, не могу оплатить заказ картой.",
    "Подскажите, как сменить тариф?",
    "Хочу оформить возврат, товар не подошёл.",
    "Не приходит код подтверждения, что делать?",
    "Можно ли изменить адрес доставки?",
    "Нужен счёт для юрлица, к кому обратиться?",
    "Здравствуйте, у меня списали деньги дважды.",
]
EN_OPENERS = [
    "Hi, where is my order #{order}?",
    "Hello, my card payment keeps failing.",
    "How do I change my plan?",
    "I'd like to return an item, please.",
    "I was charged twice this month.",
]
RU_REPLIES = [
    "Спасибо, понял.",
    "Хорошо, жду.",
    "А сколько это займёт времени?",
    "Отлично, спасибо за помощь!",
    "Понятно. А можно побыстрее?",
    "Да, всё верно.",
    "Сейчас проверю и напишу.",
    "Номер заказа {order}.",
]
EN_REPLIES = [
    "Thanks, got it.",
    "OK, I'll wait.",
    "How long will it take?",
    "Perfect, thank you!",
    "Yes, that's right.",
    "My order number is {order}.",
]
