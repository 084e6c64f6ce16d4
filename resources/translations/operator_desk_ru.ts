<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru">
  <context>
    <name>OperatorDesk</name>
    <message>
      <source>Chatwoot has no queue position.</source>
      <translation>В Chatwoot нет позиции в очереди.</translation>
    </message>
    <message>
      <source>Chatwoot has no transfer comment: it is saved as a private note.</source>
      <translation>В Chatwoot нет комментария к передаче: он сохраняется как личная заметка.</translation>
    </message>
    <message>
      <source>Set your availability in Chatwoot itself.</source>
      <translation>Статус доступности меняется в самом Chatwoot.</translation>
    </message>
    <message>
      <source>Chatwoot canned responses are shared by the whole account.</source>
      <translation>Шаблоны ответов Chatwoot общие для всей учётной записи.</translation>
    </message>
    <message>
      <source>Chatwoot's API takes no files from this app: attachments cannot be sent.</source>
      <translation>API Chatwoot не принимает файлы из этого приложения: вложения отправить нельзя.</translation>
    </message>
    <message>
      <source>Use Chatwoot's own reports.</source>
      <translation>Пользуйтесь отчётами самого Chatwoot.</translation>
    </message>
    <message>
      <source>This server reopens a closed dialog when the customer writes again.</source>
      <translation>Этот сервер открывает закрытый диалог снова, когда клиент напишет ещё раз.</translation>
    </message>
    <message>
      <source>You sign in to Chatwoot with an access token: change your password in Chatwoot itself.</source>
      <translation>В Chatwoot вы входите по токену доступа: пароль меняется в самом Chatwoot.</translation>
    </message>
    <message>
      <source>Manage the agents in Chatwoot itself.</source>
      <translation>Сотрудниками управляют в самом Chatwoot.</translation>
    </message>
    <message>
      <source>To the latest message</source>
      <translation>К последнему сообщению</translation>
    </message>
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
      <source>Reopen</source>
      <translation>Открыть снова</translation>
    </message>
    <message>
      <source>Reopen this closed dialog</source>
      <translation>Снова открыть закрытый диалог</translation>
    </message>
    <message>
      <source>Internal comment: the client will not see it</source>
      <translation>Внутренний комментарий: клиент его не увидит</translation>
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
      <source>Attach files (Ctrl+Shift+U)</source>
      <translation>Прикрепить файлы (Ctrl+Shift+U)</translation>
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
      <source>Remove the attached files</source>
      <translation>Убрать прикреплённые файлы</translation>
    </message>
    <message>
      <source>Attach files</source>
      <translation>Прикрепить файлы</translation>
    </message>
    <message>
      <source>Save file</source>
      <translation>Сохранить файл</translation>
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
      <source>The dialog is closed</source>
      <translation>Диалог закрыт</translation>
    </message>
    <message>
      <source>Saved to {path}</source>
      <translation>Сохранено: {path}</translation>
    </message>
    <message>
      <source>The client is typing…</source>
      <translation>Клиент печатает…</translation>
    </message>
    <message>
      <source>The message is too long: {n} characters, at most {max}.</source>
      <translation>Сообщение слишком длинное: {n} символов, можно не более {max}.</translation>
    </message>
    <message>
      <source>At most {n} files per message</source>
      <translation>Не больше {n} файлов в сообщении</translation>
    </message>
    <message>
      <source>{name}: larger than {max}</source>
      <translation>{name}: больше {max}</translation>
    </message>
    <message>
      <source>Cannot open {name}: {why}</source>
      <translation>Не удалось открыть {name}: {why}</translation>
    </message>
    <message>
      <source>Cannot save {name}: {why}</source>
      <translation>Не удалось сохранить {name}: {why}</translation>
    </message>
    <message>
      <source>{name}: cannot be read</source>
      <translation>{name}: файл не читается</translation>
    </message>
    <message>
      <source>Previous dialogs</source>
      <translation>Прошлые обращения</translation>
    </message>
    <message>
      <source>No dialog open</source>
      <translation>Диалог не открыт</translation>
    </message>
    <message>
      <source>Not in the local cache: it cannot be opened here.</source>
      <translation>Нет в локальном кэше: открыть его здесь нельзя.</translation>
    </message>
    <message>
      <source>Open this dialog</source>
      <translation>Открыть этот диалог</translation>
    </message>
    <message>
      <source>Offline: the client card was never loaded.</source>
      <translation>Нет связи: карточка клиента ещё не загружалась.</translation>
    </message>
    <message>
      <source>Tags: {tags}</source>
      <translation>Теги: {tags}</translation>
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
      <source>Already tagged: {tags}</source>
      <translation>Уже отмечено: {tags}</translation>
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
      <source>Saving…</source>
      <translation>Сохранение…</translation>
    </message>
    <message>
      <source>Not saved: {why}</source>
      <translation>Не сохранено: {why}</translation>
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
      <source>Show one channel only</source>
      <translation>Показать только один канал</translation>
    </message>
    <message>
      <source>Show dialogs with this tag only</source>
      <translation>Показать только диалоги с этим тегом</translation>
    </message>
    <message>
      <source>All channels</source>
      <translation>Все каналы</translation>
    </message>
    <message>
      <source>All tags</source>
      <translation>Все теги</translation>
    </message>
    <message>
      <source>This profile is already open in another Operator desk window. Work there, or close it first.</source>
      <translation>Этот профиль уже открыт в другом окне Operator desk. Работайте там или сначала закройте его.</translation>
    </message>
    <message>
      <source>Your session has ended. Please sign in again.</source>
      <translation>Сеанс завершён. Войдите снова.</translation>
    </message>
    <message>
      <source>Wrong login or password.</source>
      <translation>Неверный логин или пароль.</translation>
    </message>
    <message>
      <source>This account is disabled. Ask your administrator.</source>
      <translation>Учётная запись отключена. Обратитесь к администратору.</translation>
    </message>
    <message>
      <source>Sign-in failed: {detail}</source>
      <translation>Не удалось войти: {detail}</translation>
    </message>
    <message>
      <source>Sign in — Operator desk</source>
      <translation>Вход — Operator desk</translation>
    </message>
    <message>
      <source>Operator desk</source>
      <translation>Operator desk</translation>
    </message>
    <message>
      <source>Operator desk server</source>
      <translation>Сервер Operator desk</translation>
    </message>
    <message>
      <source>The number in your Chatwoot address: /app/accounts/N</source>
      <translation>Номер из адреса Chatwoot: /app/accounts/N</translation>
    </message>
    <message>
      <source>Remember me on this computer</source>
      <translation>Запомнить меня на этом компьютере</translation>
    </message>
    <message>
      <source>Password</source>
      <translation>Пароль</translation>
    </message>
    <message>
      <source>Account</source>
      <translation>Аккаунт</translation>
    </message>
    <message>
      <source>Profile</source>
      <translation>Профиль</translation>
    </message>
    <message>
      <source>Server type</source>
      <translation>Тип сервера</translation>
    </message>
    <message>
      <source>Server</source>
      <translation>Сервер</translation>
    </message>
    <message>
      <source>Login</source>
      <translation>Логин</translation>
    </message>
    <message>
      <source>Try the demo</source>
      <translation>Попробовать демо</translation>
    </message>
    <message>
      <source>Start a demo server on this computer with sample dialogs</source>
      <translation>Запустить на этом компьютере демо-сервер с примерами диалогов</translation>
    </message>
    <message>
      <source>Sign in</source>
      <translation>Войти</translation>
    </message>
    <message>
      <source>New server…</source>
      <translation>Новый сервер…</translation>
    </message>
    <message>
      <source>The server refused: {detail}</source>
      <translation>Сервер отказал: {detail}</translation>
    </message>
    <message>
      <source>No system keyring is available: the password will be asked at each start.</source>
      <translation>Системное хранилище паролей недоступно: пароль будет запрашиваться при каждом запуске.</translation>
    </message>
    <message>
      <source>Access token</source>
      <translation>Токен доступа</translation>
    </message>
    <message>
      <source>Chatwoot: Profile settings → Access token</source>
      <translation>Chatwoot: Настройки профиля → Токен доступа</translation>
    </message>
    <message>
      <source>Enter your login and password.</source>
      <translation>Введите логин и пароль.</translation>
    </message>
    <message>
      <source>Connecting…</source>
      <translation>Подключение…</translation>
    </message>
    <message>
      <source>The server runs an incompatible version: {detail}</source>
      <translation>Версия сервера несовместима: {detail}</translation>
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
      <source>&amp;Account</source>
      <translation>&amp;Учётная запись</translation>
    </message>
    <message>
      <source>Change password…</source>
      <translation>Сменить пароль…</translation>
    </message>
    <message>
      <source>Log out</source>
      <translation>Выйти</translation>
    </message>
    <message>
      <source>Log out and wipe the local cache…</source>
      <translation>Выйти и удалить локальный кэш…</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>Закрыть программу</translation>
    </message>
    <message>
      <source>&amp;View</source>
      <translation>&amp;Вид</translation>
    </message>
    <message>
      <source>Next client waiting for your answer</source>
      <translation>Следующий клиент, ждущий ответа</translation>
    </message>
    <message>
      <source>&amp;Help</source>
      <translation>&amp;Справка</translation>
    </message>
    <message>
      <source>Keyboard shortcuts</source>
      <translation>Горячие клавиши</translation>
    </message>
    <message>
      <source>Supervisor console</source>
      <translation>Консоль супервизора</translation>
    </message>
    <message>
      <source>Reconnecting</source>
      <translation>Переподключение</translation>
    </message>
    <message>
      <source>Wipe the local cache</source>
      <translation>Удаление локального кэша</translation>
    </message>
    <message>
      <source>This logs you out and deletes the cached dialogs on this computer. Unsent messages are lost. Continue?</source>
      <translation>Вы выйдете из учётной записи, а сохранённые на этом компьютере диалоги будут удалены. Неотправленные сообщения пропадут. Продолжить?</translation>
    </message>
    <message>
      <source>No client is waiting for your answer.</source>
      <translation>Ответа сейчас никто не ждёт.</translation>
    </message>
    <message>
      <source>Change password</source>
      <translation>Смена пароля</translation>
    </message>
    <message>
      <source>This computer stays signed in. Other computers where you are signed in will ask for the new password.</source>
      <translation>На этом компьютере вход сохранится. Другие компьютеры, где вы вошли, попросят новый пароль.</translation>
    </message>
    <message>
      <source>Your password has been changed.</source>
      <translation>Пароль изменён.</translation>
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
      <source>Reconnecting in {n} s.</source>
      <translation>Переподключение через {n} с.</translation>
    </message>
    <message>
      <source>New dialog: {name}</source>
      <translation>Новый диалог: {name}</translation>
    </message>
    <message>
      <source>Message from {name}</source>
      <translation>Сообщение от {name}</translation>
    </message>
    <message>
      <source>The two new passwords differ.</source>
      <translation>Новые пароли не совпадают.</translation>
    </message>
    <message>
      <source>New password:</source>
      <translation>Новый пароль:</translation>
    </message>
    <message>
      <source>Repeat it:</source>
      <translation>Ещё раз:</translation>
    </message>
    <message>
      <source>Type your current password.</source>
      <translation>Введите текущий пароль.</translation>
    </message>
    <message>
      <source>The current password is wrong.</source>
      <translation>Текущий пароль неверен.</translation>
    </message>
    <message>
      <source>The new password needs at least {n} characters.</source>
      <translation>В новом пароле нужно не меньше {n} символов.</translation>
    </message>
    <message>
      <source>Save password</source>
      <translation>Сохранить пароль</translation>
    </message>
    <message>
      <source>Current password:</source>
      <translation>Текущий пароль:</translation>
    </message>
    <message>
      <source>The dialog is closed.</source>
      <translation>Диалог закрыт.</translation>
    </message>
    <message>
      <source>This dialog is not assigned to you.</source>
      <translation>Этот диалог назначен не вам.</translation>
    </message>
    <message>
      <source>That operator is offline.</source>
      <translation>Этот оператор не в сети.</translation>
    </message>
    <message>
      <source>That operator has no free slots.</source>
      <translation>У этого оператора нет свободных мест.</translation>
    </message>
    <message>
      <source>You are not allowed to do this.</source>
      <translation>У вас нет прав на это действие.</translation>
    </message>
    <message>
      <source>Too many attempts. Wait a minute and try again.</source>
      <translation>Слишком много попыток. Подождите минуту и попробуйте снова.</translation>
    </message>
    <message>
      <source>The server failed. Try again later.</source>
      <translation>Ошибка на сервере. Попробуйте позже.</translation>
    </message>
    <message>
      <source>It is not on the server (any more).</source>
      <translation>Этого на сервере нет (или уже нет).</translation>
    </message>
    <message>
      <source>This dialog is no longer available to you.</source>
      <translation>Этот диалог вам больше недоступен.</translation>
    </message>
    <message>
      <source>You have no free slots: finish one of your dialogs first.</source>
      <translation>У вас нет свободных мест: сначала завершите один из своих диалогов.</translation>
    </message>
    <message>
      <source>A colleague has already taken this dialog.</source>
      <translation>Коллега уже взял этот диалог.</translation>
    </message>
    <message>
      <source>The dialog is already with that operator.</source>
      <translation>Диалог уже у этого оператора.</translation>
    </message>
    <message>
      <source>Nobody is assigned to this dialog now.</source>
      <translation>Сейчас этот диалог ни за кем не закреплён.</translation>
    </message>
    <message>
      <source>You cannot disable your own account.</source>
      <translation>Нельзя отключить собственную учётную запись.</translation>
    </message>
    <message>
      <source>This login is taken: choose another.</source>
      <translation>Этот логин занят: выберите другой.</translation>
    </message>
    <message>
      <source>Only a supervisor supervises queues.</source>
      <translation>Курировать очереди может только супервайзер.</translation>
    </message>
    <message>
      <source>Change your own password from Account → Change password.</source>
      <translation>Свой пароль меняют в меню «Учётная запись → Сменить пароль».</translation>
    </message>
    <message>
      <source>The message is empty.</source>
      <translation>Сообщение пустое.</translation>
    </message>
    <message>
      <source>The whisper is empty.</source>
      <translation>Подсказка пустая.</translation>
    </message>
    <message>
      <source>The file is too large for the server.</source>
      <translation>Файл слишком большой для сервера.</translation>
    </message>
    <message>
      <source>The file is empty.</source>
      <translation>Файл пустой.</translation>
    </message>
    <message>
      <source>A tag must be 1 to 40 characters long.</source>
      <translation>Тег должен быть длиной от 1 до 40 символов.</translation>
    </message>
    <message>
      <source>There is no such queue (any more).</source>
      <translation>Такой очереди нет или она удалена.</translation>
    </message>
    <message>
      <source>The dialog is not on the server (any more).</source>
      <translation>Такого диалога на сервере нет или он удалён.</translation>
    </message>
    <message>
      <source>The template was deleted meanwhile.</source>
      <translation>Шаблон уже удалён.</translation>
    </message>
    <message>
      <source>There is no such operator (any more).</source>
      <translation>Такого оператора нет или он удалён.</translation>
    </message>
    <message>
      <source>The client's card is not on the server (any more).</source>
      <translation>Карточки клиента на сервере нет или она удалена.</translation>
    </message>
    <message>
      <source>The file is not on the server (any more).</source>
      <translation>Файла на сервере нет или он удалён.</translation>
    </message>
    <message>
      <source>An attached file is not on the server (any more).</source>
      <translation>Одного из вложенных файлов на сервере нет или он удалён.</translation>
    </message>
    <message>
      <source>At most 10 attachments per message.</source>
      <translation>Не больше 10 вложений в одном сообщении.</translation>
    </message>
    <message>
      <source>There is no failed message to retry.</source>
      <translation>Нет неотправленного сообщения для повтора.</translation>
    </message>
    <message>
      <source>An attached file cannot be read</source>
      <translation>Вложенный файл не удаётся прочитать</translation>
    </message>
    <message>
      <source>Text</source>
      <translation>Текст</translation>
    </message>
    <message>
      <source>Shortcut</source>
      <translation>Сокращение</translation>
    </message>
    <message>
      <source>Title</source>
      <translation>Название</translation>
    </message>
    <message>
      <source>Category</source>
      <translation>Категория</translation>
    </message>
    <message>
      <source>Capacity</source>
      <translation>Лимит диалогов</translation>
    </message>
    <message>
      <source>it must be filled in</source>
      <translation>его нужно заполнить</translation>
    </message>
    <message>
      <source>it must not be empty</source>
      <translation>оно не может быть пустым</translation>
    </message>
    <message>
      <source>at most {limit} characters</source>
      <translation>не больше {limit} символов</translation>
    </message>
    <message>
      <source>at most {limit} items</source>
      <translation>не больше {limit} значений</translation>
    </message>
    <message>
      <source>letters, digits, “_” and “-” only</source>
      <translation>только буквы, цифры, «_» и «-»</translation>
    </message>
    <message>
      <source>at most {limit}</source>
      <translation>не больше {limit}</translation>
    </message>
    <message>
      <source>at least {limit}</source>
      <translation>не меньше {limit}</translation>
    </message>
    <message>
      <source>a whole number is needed</source>
      <translation>нужно целое число</translation>
    </message>
    <message>
      <source>the connection was refused</source>
      <translation>соединение отклонено</translation>
    </message>
    <message>
      <source>the connection was reset</source>
      <translation>соединение сброшено</translation>
    </message>
    <message>
      <source>the address is not found</source>
      <translation>адрес не найден</translation>
    </message>
    <message>
      <source>no answer in time</source>
      <translation>нет ответа</translation>
    </message>
    <message>
      <source>the network is unreachable</source>
      <translation>сеть недоступна</translation>
    </message>
    <message>
      <source>The local cache was damaged and has been rebuilt from the server; the old file was kept beside it.</source>
      <translation>Локальный кэш был повреждён и заново собран с сервера; старый файл сохранён рядом.</translation>
    </message>
    <message>
      <source>The local cache is damaged. It keeps working for now and will be rebuilt from the server at the next start.</source>
      <translation>Локальный кэш повреждён. Пока он работает, а при следующем запуске будет заново собран с сервера.</translation>
    </message>
    <message>
      <source>The server was reset; the local cache is rebuilt.</source>
      <translation>Сервер был сброшен; локальный кэш собирается заново.</translation>
    </message>
    <message>
      <source>No system keyring is available, so the password is not remembered: it will be asked at each start.</source>
      <translation>Системное хранилище паролей недоступно, поэтому пароль не запоминается: он будет запрошен при каждом запуске.</translation>
    </message>
    <message>
      <source>Check the field “{field}”: {problem}</source>
      <translation>Проверьте поле «{field}»: {problem}</translation>
    </message>
    <message>
      <source>The server cannot be reached: {detail}</source>
      <translation>Сервер недоступен: {detail}</translation>
    </message>
    <message>
      <source>Secure connection failed (TLS): {detail}</source>
      <translation>Не удалось установить защищённое соединение (TLS): {detail}</translation>
    </message>
    <message>
      <source>Open tabs</source>
      <translation>Открытые вкладки</translation>
    </message>
    <message>
      <source>Dialogs</source>
      <translation>Диалоги</translation>
    </message>
    <message>
      <source>Messages</source>
      <translation>Сообщения</translation>
    </message>
    <message>
      <source>Search and switch (Ctrl+K)</source>
      <translation>Поиск и переход (Ctrl+K)</translation>
    </message>
    <message>
      <source>Client name, dialog number or words from messages</source>
      <translation>Имя клиента, номер диалога или слова из переписки</translation>
    </message>
    <message>
      <source>Nothing found</source>
      <translation>Ничего не найдено</translation>
    </message>
    <message>
      <source>↑↓ choose · Enter open · Esc close</source>
      <translation>↑↓ выбор · Enter открыть · Esc закрыть</translation>
    </message>
    <message>
      <source>Like the system</source>
      <translation>Как в системе</translation>
    </message>
    <message>
      <source>Light</source>
      <translation>Светлая</translation>
    </message>
    <message>
      <source>Dark</source>
      <translation>Тёмная</translation>
    </message>
    <message>
      <source>Settings (Ctrl+,)</source>
      <translation>Настройки (Ctrl+,)</translation>
    </message>
    <message>
      <source>Optional: a PEM file with the server's CA</source>
      <translation>Необязательно: PEM-файл с сертификатом ЦС сервера</translation>
    </message>
    <message>
      <source>Name</source>
      <translation>Название</translation>
    </message>
    <message>
      <source>Server address</source>
      <translation>Адрес сервера</translation>
    </message>
    <message>
      <source>CA certificate</source>
      <translation>Сертификат ЦС</translation>
    </message>
    <message>
      <source>Settings</source>
      <translation>Настройки</translation>
    </message>
    <message>
      <source>Servers</source>
      <translation>Серверы</translation>
    </message>
    <message>
      <source>Add…</source>
      <translation>Добавить…</translation>
    </message>
    <message>
      <source>Edit…</source>
      <translation>Изменить…</translation>
    </message>
    <message>
      <source>Remove</source>
      <translation>Удалить</translation>
    </message>
    <message>
      <source>Appearance</source>
      <translation>Внешний вид</translation>
    </message>
    <message>
      <source>OK builds the window again in this language: open tabs and drafts stay.</source>
      <translation>По OK окно откроется заново на этом языке: вкладки и черновики сохранятся.</translation>
    </message>
    <message>
      <source>Default</source>
      <translation>По умолчанию</translation>
    </message>
    <message>
      <source>Language</source>
      <translation>Язык</translation>
    </message>
    <message>
      <source>Theme</source>
      <translation>Тема</translation>
    </message>
    <message>
      <source>Font size</source>
      <translation>Размер шрифта</translation>
    </message>
    <message>
      <source>Notifications</source>
      <translation>Уведомления</translation>
    </message>
    <message>
      <source>Play a sound for new dialogs and messages</source>
      <translation>Звук при новых диалогах и сообщениях</translation>
    </message>
    <message>
      <source>Server profile</source>
      <translation>Профиль сервера</translation>
    </message>
    <message>
      <source>New server profile</source>
      <translation>Новый профиль сервера</translation>
    </message>
    <message>
      <source>Give the profile a name.</source>
      <translation>Укажите название профиля.</translation>
    </message>
    <message>
      <source>A profile with this name exists already.</source>
      <translation>Профиль с таким названием уже есть.</translation>
    </message>
    <message>
      <source>The server address must start with http:// or https:// and name a host.</source>
      <translation>Адрес сервера должен начинаться с http:// или https:// и содержать имя хоста.</translation>
    </message>
    <message>
      <source>Settings could not be saved: {e}</source>
      <translation>Не удалось сохранить настройки: {e}</translation>
    </message>
    <message>
      <source>Send the message</source>
      <translation>Отправить сообщение</translation>
    </message>
    <message>
      <source>New line in the message</source>
      <translation>Новая строка в сообщении</translation>
    </message>
    <message>
      <source>Internal comment mode on/off</source>
      <translation>Включить/выключить режим внутреннего комментария</translation>
    </message>
    <message>
      <source>Insert a template</source>
      <translation>Вставить шаблон</translation>
    </message>
    <message>
      <source>Insert a pinned template</source>
      <translation>Вставить закреплённый шаблон</translation>
    </message>
    <message>
      <source>Next / previous tab</source>
      <translation>Следующая / предыдущая вкладка</translation>
    </message>
    <message>
      <source>Go to tab 1…9</source>
      <translation>Перейти на вкладку 1…9</translation>
    </message>
    <message>
      <source>Next client waiting for your answer (the longest waiting first)</source>
      <translation>Следующий клиент, ждущий ответа (сначала ждущие дольше всех)</translation>
    </message>
    <message>
      <source>Close the tab</source>
      <translation>Закрыть вкладку</translation>
    </message>
    <message>
      <source>Reopen the last closed tab</source>
      <translation>Вернуть последнюю закрытую вкладку</translation>
    </message>
    <message>
      <source>Select part of a message's text (or double-click it)</source>
      <translation>Выделить часть текста сообщения (или двойной щелчок по нему)</translation>
    </message>
    <message>
      <source>Copy the selected messages</source>
      <translation>Копировать выбранные сообщения</translation>
    </message>
    <message>
      <source>Quick switcher and search</source>
      <translation>Быстрый переход и поиск</translation>
    </message>
    <message>
      <source>Filter the dialog list</source>
      <translation>Фильтр списка диалогов</translation>
    </message>
    <message>
      <source>Take the dialog</source>
      <translation>Взять диалог</translation>
    </message>
    <message>
      <source>Transfer the dialog</source>
      <translation>Передать диалог</translation>
    </message>
    <message>
      <source>Close the dialog</source>
      <translation>Закрыть диалог</translation>
    </message>
    <message>
      <source>Next status: online, away, offline</source>
      <translation>Следующий статус: в сети, отошёл, не в сети</translation>
    </message>
    <message>
      <source>Reconnect now</source>
      <translation>Переподключиться сейчас</translation>
    </message>
    <message>
      <source>Supervisor console (supervisors)</source>
      <translation>Консоль супервизора (для супервизоров)</translation>
    </message>
    <message>
      <source>This list</source>
      <translation>Этот список</translation>
    </message>
    <message>
      <source>Keys</source>
      <translation>Клавиши</translation>
    </message>
    <message>
      <source>Action</source>
      <translation>Действие</translation>
    </message>
    <message>
      <source>Works in</source>
      <translation>Работает в очередях</translation>
    </message>
    <message>
      <source>Supervises</source>
      <translation>Курирует</translation>
    </message>
    <message>
      <source>Name:</source>
      <translation>Имя:</translation>
    </message>
    <message>
      <source>Login:</source>
      <translation>Логин:</translation>
    </message>
    <message>
      <source>Role:</source>
      <translation>Роль:</translation>
    </message>
    <message>
      <source>Password:</source>
      <translation>Пароль:</translation>
    </message>
    <message>
      <source>Chats at once:</source>
      <translation>Чатов одновременно:</translation>
    </message>
    <message>
      <source>Type the colleague's name.</source>
      <translation>Введите имя коллеги.</translation>
    </message>
    <message>
      <source>Type a login without spaces.</source>
      <translation>Введите логин без пробелов.</translation>
    </message>
    <message>
      <source>New account</source>
      <translation>Новая учётная запись</translation>
    </message>
    <message>
      <source>Tell the colleague their password in person or by phone, never in a chat.</source>
      <translation>Сообщите пароль коллеге лично или по телефону, но не в чате.</translation>
    </message>
    <message>
      <source>Create</source>
      <translation>Создать</translation>
    </message>
    <message>
      <source>Their desk re-reads its dialogs at once. Dialogs they hold stay theirs.</source>
      <translation>Рабочее место сотрудника сразу перечитает диалоги. Диалоги, которые он ведёт, останутся за ним.</translation>
    </message>
    <message>
      <source>Save</source>
      <translation>Сохранить</translation>
    </message>
    <message>
      <source>Queues of {name}</source>
      <translation>Очереди: {name}</translation>
    </message>
    <message>
      <source>{n} dialogs wait past the SLA</source>
      <translation>Диалогов сверх SLA: {n}</translation>
    </message>
    <message>
      <source>Queue {queue}: {n} dialogs waiting (threshold {limit})</source>
      <translation>Очередь {queue}: ждут {n} (порог {limit})</translation>
    </message>
    <message>
      <source>{client} waits past the SLA in {queue}</source>
      <translation>{client} ждёт дольше SLA в очереди {queue}</translation>
    </message>
    <message>
      <source>Queue</source>
      <translation>Очередь</translation>
    </message>
    <message>
      <source>In the queue</source>
      <translation>В очереди</translation>
    </message>
    <message>
      <source>Longest wait</source>
      <translation>Дольше всех ждёт</translation>
    </message>
    <message>
      <source>In work</source>
      <translation>В работе</translation>
    </message>
    <message>
      <source>Operators online</source>
      <translation>Операторов в сети</translation>
    </message>
    <message>
      <source>Over SLA</source>
      <translation>Сверх SLA</translation>
    </message>
    <message>
      <source>Operator</source>
      <translation>Оператор</translation>
    </message>
    <message>
      <source>Status</source>
      <translation>Статус</translation>
    </message>
    <message>
      <source>Load</source>
      <translation>Загрузка</translation>
    </message>
    <message>
      <source>Handled today</source>
      <translation>Закрыто сегодня</translation>
    </message>
    <message>
      <source>First response (median)</source>
      <translation>Первый ответ (медиана)</translation>
    </message>
    <message>
      <source>Rating</source>
      <translation>Оценка</translation>
    </message>
    <message>
      <source>State</source>
      <translation>Состояние</translation>
    </message>
    <message>
      <source>Unanswered for</source>
      <translation>Без ответа</translation>
    </message>
    <message>
      <source>Live</source>
      <translation>Онлайн</translation>
    </message>
    <message>
      <source>Monitor</source>
      <translation>Мониторинг</translation>
    </message>
    <message>
      <source>Reports</source>
      <translation>Отчёты</translation>
    </message>
    <message>
      <source>Staffing</source>
      <translation>Штат</translation>
    </message>
    <message>
      <source>Alert when a queue has more waiting than</source>
      <translation>Сигнал, если в очереди ждут больше</translation>
    </message>
    <message>
      <source>Alert on dialogs past the SLA</source>
      <translation>Сигнал о диалогах сверх SLA</translation>
    </message>
    <message>
      <source>Sound</source>
      <translation>Звук</translation>
    </message>
    <message>
      <source>Dialog moved to another queue.</source>
      <translation>Диалог переведён в другую очередь.</translation>
    </message>
    <message>
      <source>You took the dialog over.</source>
      <translation>Вы забрали диалог себе.</translation>
    </message>
    <message>
      <source>Whisper sent.</source>
      <translation>Подсказка отправлена.</translation>
    </message>
    <message>
      <source>Status changed.</source>
      <translation>Статус изменён.</translation>
    </message>
    <message>
      <source>Capacity changed.</source>
      <translation>Лимит изменён.</translation>
    </message>
    <message>
      <source>Disable sign-in</source>
      <translation>Запрет входа</translation>
    </message>
    <message>
      <source>Disable</source>
      <translation>Запретить</translation>
    </message>
    <message>
      <source>Take over</source>
      <translation>Забрать себе</translation>
    </message>
    <message>
      <source>Whisper to the operator…</source>
      <translation>Подсказать оператору…</translation>
    </message>
    <message>
      <source>Reassign to</source>
      <translation>Передать оператору</translation>
    </message>
    <message>
      <source>Move to queue</source>
      <translation>Перевести в очередь</translation>
    </message>
    <message>
      <source>Set capacity…</source>
      <translation>Изменить лимит…</translation>
    </message>
    <message>
      <source>Whisper to the operator</source>
      <translation>Подсказка оператору</translation>
    </message>
    <message>
      <source>Only the operator sees this comment, never the client.</source>
      <translation>Комментарий увидит только оператор, клиент — никогда.</translation>
    </message>
    <message>
      <source>A hint for the operator</source>
      <translation>Подсказка для оператора</translation>
    </message>
    <message>
      <source>Staff</source>
      <translation>Сотрудники</translation>
    </message>
    <message>
      <source>Dialogs (drag onto an operator to reassign)</source>
      <translation>Диалоги (перетащите на оператора, чтобы передать)</translation>
    </message>
    <message>
      <source>Operators</source>
      <translation>Операторы</translation>
    </message>
    <message>
      <source>Queues</source>
      <translation>Очереди</translation>
    </message>
    <message>
      <source>Alerts</source>
      <translation>Сигналы</translation>
    </message>
    <message>
      <source>nobody is waiting in this queue</source>
      <translation>в этой очереди никто не ждёт</translation>
    </message>
    <message>
      <source>Not done: {why}</source>
      <translation>Не выполнено: {why}</translation>
    </message>
    <message>
      <source>Dialog reassigned to {name}.</source>
      <translation>Диалог передан: {name}.</translation>
    </message>
    <message>
      <source>Disable {name}'s account? They are signed out at once, and their dialogs go back to their queues.</source>
      <translation>Запретить вход для учётной записи «{name}»? Сотрудник сразу выйдет из системы, а его диалоги вернутся в очереди.</translation>
    </message>
    <message>
      <source>Chats {name} may hold at once:</source>
      <translation>Сколько диалогов {name} ведёт одновременно:</translation>
    </message>
    <message>
      <source>{name} may sign in again.</source>
      <translation>{name}: вход снова разрешён.</translation>
    </message>
    <message>
      <source>New password for {name}</source>
      <translation>Новый пароль: {name}</translation>
    </message>
    <message>
      <source>{name} is signed out everywhere and signs in with this password. Tell it to them in person or by phone, never in a chat.</source>
      <translation>Сеансы сотрудника «{name}» будут завершены везде, войти можно будет с этим паролем. Сообщите его лично или по телефону, но не в чате.</translation>
    </message>
    <message>
      <source>Set status: {status}</source>
      <translation>Статус: {status}</translation>
    </message>
    <message>
      <source>The boards are not up to date: {why}</source>
      <translation>Данные панели устарели: {why}</translation>
    </message>
    <message>
      <source>{name} can no longer sign in.</source>
      <translation>{name}: вход запрещён.</translation>
    </message>
    <message>
      <source>{name} has a new password.</source>
      <translation>{name}: пароль изменён.</translation>
    </message>
    <message>
      <source>Account {login} created.</source>
      <translation>Учётная запись {login} создана.</translation>
    </message>
    <message>
      <source>Queues of {name} saved.</source>
      <translation>Очереди сотрудника «{name}» сохранены.</translation>
    </message>
    <message>
      <source>Stop monitoring</source>
      <translation>Закрыть мониторинг</translation>
    </message>
    <message>
      <source>nobody</source>
      <translation>никто</translation>
    </message>
    <message>
      <source>Double-click a dialog on the live board, or choose Monitor in its menu.</source>
      <translation>Дважды щёлкните диалог на вкладке «Онлайн» или выберите «Мониторинг» в его меню.</translation>
    </message>
    <message>
      <source>Whisper</source>
      <translation>Подсказать</translation>
    </message>
    <message>
      <source>{queue} · operator: {operator}</source>
      <translation>{queue} · оператор: {operator}</translation>
    </message>
    <message>
      <source>{name} is typing…</source>
      <translation>{name} печатает…</translation>
    </message>
    <message>
      <source>Dialogs per day</source>
      <translation>Диалоги по дням</translation>
    </message>
    <message>
      <source>Dialogs per hour of the day (average)</source>
      <translation>Диалоги по часам суток (в среднем)</translation>
    </message>
    <message>
      <source>First response, minutes</source>
      <translation>Первый ответ, мин</translation>
    </message>
    <message>
      <source>Handling time, minutes</source>
      <translation>Время обработки, мин</translation>
    </message>
    <message>
      <source>Ratings</source>
      <translation>Оценки</translation>
    </message>
    <message>
      <source>SLA breaches per day</source>
      <translation>Нарушения SLA по дням</translation>
    </message>
    <message>
      <source>Choose the filters and press Show.</source>
      <translation>Выберите фильтры и нажмите «Показать».</translation>
    </message>
    <message>
      <source>Show</source>
      <translation>Показать</translation>
    </message>
    <message>
      <source>Export CSV…</source>
      <translation>Экспорт CSV…</translation>
    </message>
    <message>
      <source>Export PDF…</source>
      <translation>Экспорт PDF…</translation>
    </message>
    <message>
      <source>Export CSV</source>
      <translation>Экспорт CSV</translation>
    </message>
    <message>
      <source>CSV files (*.csv)</source>
      <translation>Файлы CSV (*.csv)</translation>
    </message>
    <message>
      <source>Export PDF</source>
      <translation>Экспорт PDF</translation>
    </message>
    <message>
      <source>PDF files (*.pdf)</source>
      <translation>Файлы PDF (*.pdf)</translation>
    </message>
    <message>
      <source>Chat center report</source>
      <translation>Отчёт чат-центра</translation>
    </message>
    <message>
      <source>Day</source>
      <translation>День</translation>
    </message>
    <message>
      <source>Closed</source>
      <translation>Закрыто</translation>
    </message>
    <message>
      <source>First response, median</source>
      <translation>Первый ответ, медиана</translation>
    </message>
    <message>
      <source>90th percentile</source>
      <translation>90-й перцентиль</translation>
    </message>
    <message>
      <source>Handling, average</source>
      <translation>Обработка, среднее</translation>
    </message>
    <message>
      <source>SLA breaches</source>
      <translation>Нарушения SLA</translation>
    </message>
    <message>
      <source>Dialogs: {dialogs}, closed: {closed}. First response: median {median}, 90% within {p90}. Handling: average {handling}. Rating: {rating} ({ratings}). SLA breaches: {breaches}.</source>
      <translation>Диалогов: {dialogs}, закрыто: {closed}. Первый ответ: медиана {median}, 90% быстрее {p90}. Обработка: в среднем {handling}. Оценка: {rating} ({ratings}). Нарушений SLA: {breaches}.</translation>
    </message>
    <message>
      <source>From</source>
      <translation>С</translation>
    </message>
    <message>
      <source>To</source>
      <translation>по</translation>
    </message>
    <message>
      <source>All</source>
      <translation>Все</translation>
    </message>
    <message>
      <source>The start date is after the end date.</source>
      <translation>Начальная дата позже конечной.</translation>
    </message>
    <message>
      <source>Show a report first.</source>
      <translation>Сначала постройте отчёт.</translation>
    </message>
    <message>
      <source>Median</source>
      <translation>Медиана</translation>
    </message>
    <message>
      <source>Average</source>
      <translation>Среднее</translation>
    </message>
    <message>
      <source>Period: {since} – {until}</source>
      <translation>Период: {since} – {until}</translation>
    </message>
    <message>
      <source>Queue: {queue}</source>
      <translation>Очередь: {queue}</translation>
    </message>
    <message>
      <source>Operator: {operator}</source>
      <translation>Оператор: {operator}</translation>
    </message>
    <message>
      <source>Choose at most {n} days.</source>
      <translation>Выберите не больше {n} дней.</translation>
    </message>
    <message>
      <source>Total</source>
      <translation>Итого</translation>
    </message>
    <message>
      <source>Cannot write {path}: {why}</source>
      <translation>Не удалось записать {path}: {why}</translation>
    </message>
    <message>
      <source>Supervisor</source>
      <translation>Супервайзер</translation>
    </message>
    <message>
      <source>Admin</source>
      <translation>Администратор</translation>
    </message>
    <message>
      <source>Employee</source>
      <translation>Сотрудник</translation>
    </message>
    <message>
      <source>Role</source>
      <translation>Роль</translation>
    </message>
    <message>
      <source>Sign-in</source>
      <translation>Вход</translation>
    </message>
    <message>
      <source>For your own account: Account → Change password.</source>
      <translation>Для своей учётной записи: Учётная запись → Сменить пароль.</translation>
    </message>
    <message>
      <source>Disabling an account signs it out everywhere and returns its dialogs to their queues. A new password signs the account out everywhere too.</source>
      <translation>Запрет входа завершает все сеансы сотрудника и возвращает его диалоги в очереди. Новый пароль тоже завершает все его сеансы.</translation>
    </message>
    <message>
      <source>New account…</source>
      <translation>Новая учётная запись…</translation>
    </message>
    <message>
      <source>Queues…</source>
      <translation>Очереди…</translation>
    </message>
    <message>
      <source>New password…</source>
      <translation>Новый пароль…</translation>
    </message>
    <message>
      <source>Disable sign-in…</source>
      <translation>Запретить вход…</translation>
    </message>
    <message>
      <source>Refresh</source>
      <translation>Обновить</translation>
    </message>
    <message>
      <source>allowed</source>
      <translation>разрешён</translation>
    </message>
    <message>
      <source>disabled</source>
      <translation>запрещён</translation>
    </message>
    <message>
      <source>Allow sign-in</source>
      <translation>Разрешить вход</translation>
    </message>
    <message>
      <source>supervises: {queues}</source>
      <translation>курирует: {queues}</translation>
    </message>
    <message>
      <source>The share answered within the target time by the operators needed</source>
      <translation>Доля чатов, принятых в целевое время, если операторов столько, сколько нужно</translation>
    </message>
    <message>
      <source>Hour</source>
      <translation>Час</translation>
    </message>
    <message>
      <source>Chats per hour</source>
      <translation>Чатов в час</translation>
    </message>
    <message>
      <source>Handling time, min</source>
      <translation>Обработка, мин</translation>
    </message>
    <message>
      <source>Operators needed</source>
      <translation>Нужно операторов</translation>
    </message>
    <message>
      <source>Operators seen</source>
      <translation>Было операторов</translation>
    </message>
    <message>
      <source>Seen minus needed</source>
      <translation>Было минус нужно</translation>
    </message>
    <message>
      <source>Service level</source>
      <translation>Уровень сервиса</translation>
    </message>
    <message>
      <source>Erlang C per hour, each operator counted as several chat slots. Load is measured over the range chosen in Reports.</source>
      <translation>Эрланг C по часам: каждый оператор — несколько параллельных чатов. Нагрузка измерена за период, выбранный в «Отчётах».</translation>
    </message>
    <message>
      <source>Operators needed and seen, per hour</source>
      <translation>Операторов нужно и было, по часам</translation>
    </message>
    <message>
      <source> s</source>
      <translation> с</translation>
    </message>
    <message>
      <source>Answered</source>
      <translation>Ответить на</translation>
    </message>
    <message>
      <source>within</source>
      <translation>за</translation>
    </message>
    <message>
      <source>Chats per operator</source>
      <translation>Чатов на оператора</translation>
    </message>
    <message>
      <source>Slowdown factor</source>
      <translation>Коэффициент замедления</translation>
    </message>
    <message>
      <source>Needed</source>
      <translation>Нужно</translation>
    </message>
    <message>
      <source>Seen</source>
      <translation>Было</translation>
    </message>
    <message>
      <source>No templates match</source>
      <translation>Подходящих шаблонов нет</translation>
    </message>
    <message>
      <source>Client name</source>
      <translation>Имя клиента</translation>
    </message>
    <message>
      <source>Operator name</source>
      <translation>Имя оператора</translation>
    </message>
    <message>
      <source>Dialog number</source>
      <translation>Номер обращения</translation>
    </message>
    <message>
      <source>Promo code</source>
      <translation>Промокод</translation>
    </message>
    <message>
      <source>Tariff</source>
      <translation>Тариф</translation>
    </message>
    <message>
      <source>Order number</source>
      <translation>Номер заказа</translation>
    </message>
    <message>
      <source>Fill in the template</source>
      <translation>Заполните шаблон</translation>
    </message>
    <message>
      <source>Insert</source>
      <translation>Вставить</translation>
    </message>
    <message>
      <source>Preview</source>
      <translation>Предпросмотр</translation>
    </message>
    <message>
      <source>Chatwoot canned responses keep only a shortcut and a text.</source>
      <translation>Шаблоны ответов Chatwoot хранят только сокращение и текст.</translation>
    </message>
    <message>
      <source>Templates</source>
      <translation>Шаблоны</translation>
    </message>
    <message>
      <source>Search templates</source>
      <translation>Поиск шаблонов</translation>
    </message>
    <message>
      <source>New</source>
      <translation>Новый</translation>
    </message>
    <message>
      <source>Create a personal template</source>
      <translation>Создать личный шаблон</translation>
    </message>
    <message>
      <source>Edit</source>
      <translation>Изменить</translation>
    </message>
    <message>
      <source>Delete</source>
      <translation>Удалить</translation>
    </message>
    <message>
      <source>All categories</source>
      <translation>Все категории</translation>
    </message>
    <message>
      <source>Delete template</source>
      <translation>Удаление шаблона</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>Отмена</translation>
    </message>
    <message>
      <source>e.g. delivery</source>
      <translation>например, delivery</translation>
    </message>
    <message>
      <source>Text; variables: {client_name}, {operator_name}, {dialog_id}</source>
      <translation>Текст; переменные: {client_name}, {operator_name}, {dialog_id}</translation>
    </message>
    <message>
      <source>Pinned (Ctrl+1…9 in a chat)</source>
      <translation>Закреплён (Ctrl+1…9 в чате)</translation>
    </message>
    <message>
      <source>Shared</source>
      <translation>Общие</translation>
    </message>
    <message>
      <source>Shared templates are read-only</source>
      <translation>Общие шаблоны нельзя изменять</translation>
    </message>
    <message>
      <source>Create a template shared by the whole account</source>
      <translation>Создать шаблон, общий для всей учётной записи</translation>
    </message>
    <message>
      <source>Edit template</source>
      <translation>Изменение шаблона</translation>
    </message>
    <message>
      <source>New template</source>
      <translation>Новый шаблон</translation>
    </message>
    <message>
      <source>My templates</source>
      <translation>Мои шаблоны</translation>
    </message>
    <message>
      <source>Delete the template “{title}”?</source>
      <translation>Удалить шаблон «{title}»?</translation>
    </message>
    <message>
      <source>New messages</source>
      <translation>Новые сообщения</translation>
    </message>
    <message>
      <source>Image unavailable</source>
      <translation>Изображение недоступно</translation>
    </message>
    <message>
      <source>Loading image…</source>
      <translation>Загрузка изображения…</translation>
    </message>
    <message>
      <source>{n} MB</source>
      <translation>{n} МБ</translation>
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
      <source>Copy text</source>
      <translation>Копировать текст</translation>
    </message>
    <message>
      <source>Select part of the text</source>
      <translation>Выделить часть текста</translation>
    </message>
    <message>
      <source>Internal comment</source>
      <translation>Внутренний комментарий</translation>
    </message>
    <message>
      <source>{n} B</source>
      <translation>{n} Б</translation>
    </message>
    <message>
      <source>{n} KB</source>
      <translation>{n} КБ</translation>
    </message>
    <message>
      <source>Copy link</source>
      <translation>Копировать ссылку</translation>
    </message>
    <message>
      <source>Open link</source>
      <translation>Открыть ссылку</translation>
    </message>
    <message>
      <source>Retry</source>
      <translation>Повторить</translation>
    </message>
    <message>
      <source>Message deleted</source>
      <translation>Сообщение удалено</translation>
    </message>
    <message>
      <source>not sent</source>
      <translation>не отправлено</translation>
    </message>
    <message>
      <source>Open “{name}”</source>
      <translation>Открыть «{name}»</translation>
    </message>
    <message>
      <source>Save “{name}” as…</source>
      <translation>Сохранить «{name}» как…</translation>
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
