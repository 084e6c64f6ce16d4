<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru">
  <context>
    <name>OperatorDesk</name>
    <message>
      <source>Take</source>
      <translation>Взять</translation>
    </message>
    <message>
      <source>Take this dialog (Ctrl+Shift+A)</source>
      <translation>Взять диалог в работу (Ctrl+Shift+A)</translation>
    </message>
    <message>
      <source>Transfer</source>
      <translation>Передать</translation>
    </message>
    <message>
      <source>Transfer to an operator or a queue (Ctrl+Shift+R)</source>
      <translation>Передать оператору или в очередь (Ctrl+Shift+R)</translation>
    </message>
    <message>
      <source>Close</source>
      <translation>Закрыть</translation>
    </message>
    <message>
      <source>Close the dialog with a resolution (Ctrl+Shift+E)</source>
      <translation>Закрыть диалог с итогом (Ctrl+Shift+E)</translation>
    </message>
    <message>
      <source>Comment</source>
      <translation>Комментарий</translation>
    </message>
    <message>
      <source>Internal comment mode (Ctrl+Shift+C)</source>
      <translation>Режим внутреннего комментария (Ctrl+Shift+C)</translation>
    </message>
    <message>
      <source>Send</source>
      <translation>Отправить</translation>
    </message>
    <message>
      <source>Send (Enter); new line: Shift+Enter</source>
      <translation>Отправить (Enter); новая строка: Shift+Enter</translation>
    </message>
    <message>
      <source>Internal comment: the client will not see it</source>
      <translation>Внутренний комментарий: клиент его не увидит</translation>
    </message>
    <message>
      <source>Add comment</source>
      <translation>Добавить комментарий</translation>
    </message>
    <message>
      <source>Internal comment for colleagues…</source>
      <translation>Внутренний комментарий для коллег…</translation>
    </message>
    <message>
      <source>Message to the client…</source>
      <translation>Сообщение клиенту…</translation>
    </message>
    <message>
      <source>The client is typing…</source>
      <translation>Клиент печатает…</translation>
    </message>
    <message>
      <source>waiting</source>
      <translation>ожидает</translation>
    </message>
    <message>
      <source>active</source>
      <translation>в работе</translation>
    </message>
    <message>
      <source>closed</source>
      <translation>закрыт</translation>
    </message>
    <message>
      <source>The message is too long: {n} characters, at most {max}.</source>
      <translation>Сообщение слишком длинное: {n} символов, можно не более {max}.</translation>
    </message>
    <message>
      <source>Close dialog</source>
      <translation>Закрыть диалог</translation>
    </message>
    <message>
      <source>What was the outcome?</source>
      <translation>Чем закончилось обращение?</translation>
    </message>
    <message>
      <source>refund, delivery, …</source>
      <translation>возврат, доставка, …</translation>
    </message>
    <message>
      <source>Resolution</source>
      <translation>Итог</translation>
    </message>
    <message>
      <source>Tags</source>
      <translation>Теги</translation>
    </message>
    <message>
      <source>You: </source>
      <translation>Вы: </translation>
    </message>
    <message>
      <source>Draft: </source>
      <translation>Черновик: </translation>
    </message>
    <message>
      <source>Today</source>
      <translation>Сегодня</translation>
    </message>
    <message>
      <source>Yesterday</source>
      <translation>Вчера</translation>
    </message>
    <message>
      <source>{d}d</source>
      <translation>{d} д</translation>
    </message>
    <message>
      <source>{n}s</source>
      <translation>{n} с</translation>
    </message>
    <message>
      <source>{m}m {s:02d}s</source>
      <translation>{m} мин {s:02d} с</translation>
    </message>
    <message>
      <source>{h}h {m:02d}m</source>
      <translation>{h} ч {m:02d} мин</translation>
    </message>
    <message>
      <source>Online</source>
      <translation>В сети</translation>
    </message>
    <message>
      <source>Away</source>
      <translation>Отошёл</translation>
    </message>
    <message>
      <source>Offline</source>
      <translation>Не в сети</translation>
    </message>
    <message>
      <source>VK</source>
      <translation>ВКонтакте</translation>
    </message>
    <message>
      <source>Web chat</source>
      <translation>Веб-чат</translation>
    </message>
    <message>
      <source>E-mail</source>
      <translation>Эл. почта</translation>
    </message>
    <message>
      <source>Other</source>
      <translation>Другое</translation>
    </message>
    <message>
      <source>Mine</source>
      <translation>Мои</translation>
    </message>
    <message>
      <source>Waiting</source>
      <translation>Ожидают</translation>
    </message>
    <message>
      <source>Closed today</source>
      <translation>Закрытые сегодня</translation>
    </message>
    <message>
      <source>No connection to the server. The cached dialogs stay available.</source>
      <translation>Нет связи с сервером. Сохранённые диалоги доступны.</translation>
    </message>
    <message>
      <source>Operator desk</source>
      <translation>Operator desk</translation>
    </message>
    <message>
      <source>Active dialogs / capacity</source>
      <translation>Активные диалоги / лимит</translation>
    </message>
    <message>
      <source>Your status (Ctrl+Shift+S cycles)</source>
      <translation>Ваш статус (Ctrl+Shift+S — переключить)</translation>
    </message>
    <message>
      <source>Retry now</source>
      <translation>Повторить сейчас</translation>
    </message>
    <message>
      <source>Reconnect at once (F5)</source>
      <translation>Подключиться сейчас (F5)</translation>
    </message>
    <message>
      <source>Filter by name or text (Ctrl+F)</source>
      <translation>Фильтр по имени или тексту (Ctrl+F)</translation>
    </message>
    <message>
      <source>Choose a dialog on the left, or press Ctrl+K</source>
      <translation>Выберите диалог слева или нажмите Ctrl+K</translation>
    </message>
    <message>
      <source>Client</source>
      <translation>Клиент</translation>
    </message>
    <message>
      <source>Connecting…</source>
      <translation>Подключение…</translation>
    </message>
    <message>
      <source>Reconnecting</source>
      <translation>Переподключение</translation>
    </message>
    <message>
      <source>Something went wrong: {e}</source>
      <translation>Что-то пошло не так: {e}</translation>
    </message>
    <message>
      <source>Load {load}/{cap}</source>
      <translation>Нагрузка {load}/{cap}</translation>
    </message>
    <message>
      <source>Channel</source>
      <translation>Канал</translation>
    </message>
    <message>
      <source>Dialog</source>
      <translation>Диалог</translation>
    </message>
    <message>
      <source>Reconnecting in {n} s.</source>
      <translation>Переподключение через {n} с.</translation>
    </message>
    <message>
      <source>sending</source>
      <translation>отправляется</translation>
    </message>
    <message>
      <source>click to retry</source>
      <translation>нажмите, чтобы повторить</translation>
    </message>
    <message>
      <source>Internal comment</source>
      <translation>Внутренний комментарий</translation>
    </message>
    <message>
      <source>not sent</source>
      <translation>не отправлено</translation>
    </message>
    <message>
      <source>Search operators and queues…</source>
      <translation>Поиск операторов и очередей…</translation>
    </message>
    <message>
      <source>Comment for the receiver (internal, the client won't see it)</source>
      <translation>Комментарий для получателя (внутренний, клиент его не увидит)</translation>
    </message>
    <message>
      <source>Transfer dialog #{n}</source>
      <translation>Передать диалог №{n}</translation>
    </message>
    <message>
      <source>at capacity</source>
      <translation>нет мест</translation>
    </message>
    <message>
      <source>Queue {name} — {n} waiting</source>
      <translation>Очередь «{name}» — ожидают: {n}</translation>
    </message>
  </context>
</TS>
